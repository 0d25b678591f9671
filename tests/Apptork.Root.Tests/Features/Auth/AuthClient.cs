using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Email;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

/// <summary>Drives sign-in over HTTP as a mobile app does, reading each mailed code where the shape delivers it.</summary>
public sealed partial class AuthClient
{
    private readonly RootApp app;
    private readonly Dictionary<string, int> expectedCodes;

    public AuthClient(RootApp app, string? acceptLanguage = null)
        : this(app, app.Client(acceptLanguage), [])
    {
    }

    private AuthClient(RootApp app, HttpClient http, Dictionary<string, int> expectedCodes)
    {
        this.app = app;
        this.expectedCodes = expectedCodes;
        Http = http;
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public HttpClient Http { get; }

    /// <summary>
    /// Another machine: connecting from <paramref name="sourceAddress"/> (127.0.0.3, 127.0.0.4…) and sending
    /// <paramref name="deviceId"/> as <c>X-Device-Id</c> with every request. It counts the codes it asks for together
    /// with this client, so either reads the newest code of an address once every code asked for has arrived.
    /// </summary>
    public AuthClient OnMachine(string sourceAddress, string deviceId)
    {
        var http = ClientFrom.Address(sourceAddress, Http.BaseAddress!);
        http.DefaultRequestHeaders.Add("X-Device-Id", deviceId);
        return new AuthClient(app, http, expectedCodes);
    }

    public async Task<OtpRequested> RequestCodeAsync(string email)
    {
        using var response = await TryRequestCodeAsync(email);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancel));
        ExpectCode(email);
        return (await response.Content.ReadFromJsonAsync<OtpRequested>(TestJson.Options, Cancel))!;
    }

    public Task<HttpResponseMessage> TryRequestCodeAsync(string email) =>
        Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email }, Cancel);

    /// <summary>A code that is certainly not the newest one mailed to the address.</summary>
    public async Task<string> WrongCodeForAsync(string email) => await LastCodeForAsync(email) == "000000" ? "111111" : "000000";

    public async Task<OtpRequested> RequestEmailChangeAsync(string accessToken, string email)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/auth/me/email", accessToken, new { email });
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancel));
        ExpectCode(email);
        return (await response.Content.ReadFromJsonAsync<OtpRequested>(TestJson.Options, Cancel))!;
    }

    /// <summary>
    /// The newest code mailed to this address, once every code this client asked for has arrived: mail leaves
    /// through the email queue after the request has answered. The embedded shape's Log provider writes it to the log;
    /// the production shape mails the SMTP peer.
    /// </summary>
    public async Task<string> LastCodeForAsync(string email)
    {
        var expected = expectedCodes.GetValueOrDefault(email.ToLowerInvariant());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var codes = await MailedCodesAsync(email);
            if (codes.Count >= Math.Max(expected, 1))
            {
                return codes[^1];
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException($"{codes.Count} of {expected} codes mailed to {email} arrived within 10 s");
            }

            await Task.Delay(20, Cancel);
        }
    }

    /// <summary>Waits for a mail to <paramref name="email"/> whose text contains <paramref name="fragment"/>.</summary>
    public async Task WaitForMailAsync(string email, string fragment)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!(await MailTextsAsync(email)).Any(text => text.Contains(fragment, StringComparison.OrdinalIgnoreCase)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException($"No mail to {email} mentioning '{fragment}' arrived within 10 s");
            }

            await Task.Delay(20, Cancel);
        }
    }

    /// <summary>Counts a code the server mails on its own account (a provider link), so <see cref="LastCodeForAsync"/> waits for it.</summary>
    public void ExpectCode(string email) =>
        expectedCodes[email.ToLowerInvariant()] = expectedCodes.GetValueOrDefault(email.ToLowerInvariant()) + 1;

    private async Task<IReadOnlyList<string>> MailedCodesAsync(string email) =>
        (await MailTextsAsync(email)).Where(text => SixDigits().IsMatch(text)).Select(text => SixDigits().Match(text).Value).ToList();

    /// <summary>What was mailed to the address, in order: message texts from the SMTP peer, or log lines for the Log provider.</summary>
    private async Task<IReadOnlyList<string>> MailTextsAsync(string email)
    {
        var options = app.Services.GetRequiredService<IOptions<EmailOptions>>().Value;
        if (options.Provider == EmailProvider.Smtp)
        {
            var smtp = await TestContext.Current.GetFixture<SmtpServer>() ?? throw new InvalidOperationException("No SMTP peer.");
            var sender = System.Net.Mail.MailAddress.TryCreate(options.From, out var from) ? from.Address : options.From;
            return smtp.Received
                .Where(mail => string.Equals(mail.FromAddress, sender, StringComparison.OrdinalIgnoreCase)
                    && mail.To.Any(to => to.Contains(email, StringComparison.OrdinalIgnoreCase)))
                .Select(mail => mail.Text ?? string.Empty).ToList();
        }

        return app.Logs.Entries.Where(entry => entry.Message.Contains(email, StringComparison.OrdinalIgnoreCase)).Select(entry => entry.Message).ToList();
    }

    public Task<HttpResponseMessage> VerifyAsync(string otpToken, string code, string? deviceId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/otp/verify") { Content = JsonContent.Create(new { otp_token = otpToken, code }) };
        if (deviceId is not null)
        {
            request.Headers.Add("X-Device-Id", deviceId);
            request.Headers.Add("X-Platform", "ios");
        }

        return Http.SendAsync(request, Cancel);
    }

    public async Task<SignedIn> SignInAsync(string email, string? deviceId = null)
    {
        var requested = await RequestCodeAsync(email);
        using var response = await VerifyAsync(requested.OtpToken, await LastCodeForAsync(email), deviceId);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<SignedIn>(TestJson.Options, Cancel))!;
    }

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        Http.PostAsJsonAsync("/api/v1/auth/token/refresh", new { refresh_token = refreshToken }, Cancel);

    public Task<HttpResponseMessage> GetAsync(string path, string accessToken) => SendAsync(HttpMethod.Get, path, accessToken);

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string accessToken, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return Http.SendAsync(request, Cancel);
    }

    [GeneratedRegex(@"(?<![0-9])[0-9]{6}(?![0-9])")]
    private static partial Regex SixDigits();

    public sealed record OtpRequested(string OtpToken, int ExpiresIn, int ResendAfter);

    public sealed record UserView(Guid Id, string? Email, string? DisplayName, string? Locale, string Role, Guid? AvatarFileId = null, Uri? AvatarUrl = null);

    public sealed record SignedIn(
        string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, int RefreshExpiresIn, UserView User,
        bool IsNewUser);
}
