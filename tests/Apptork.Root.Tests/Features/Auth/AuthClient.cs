using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

/// <summary>Drives sign-in over HTTP as a mobile app does, reading the mailed code where the embedded shape puts it: the log.</summary>
public sealed partial class AuthClient(RootApp app, string? acceptLanguage = null)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public HttpClient Http { get; } = app.Client(acceptLanguage);

    public async Task<OtpRequested> RequestCodeAsync(string email)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<OtpRequested>(TestJson.Options, Cancel))!;
    }

    /// <summary>The last code mailed to this address (the Log mail provider writes it to the log).</summary>
    public string LastCodeFor(string email)
    {
        var entry = app.Logs.Entries.LastOrDefault(entry => entry.Message.Contains(email, StringComparison.OrdinalIgnoreCase) && SixDigits().IsMatch(entry.Message))
            ?? throw new ShouldAssertException($"No code was mailed to {email}");
        return SixDigits().Match(entry.Message).Value;
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
        using var response = await VerifyAsync(requested.OtpToken, LastCodeFor(email), deviceId);
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

    public sealed record UserView(Guid Id, string? Email, string? DisplayName, string? Locale, string Role);

    public sealed record SignedIn(
        string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, int RefreshExpiresIn, UserView User,
        bool IsNewUser);
}
