using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Fleet;

/// <summary>
/// Drives the API of a fleet over HTTP as an app does, through the proxy or straight to one process, noting which
/// process answered each request (the proxy's <see cref="NginxProxy.UpstreamHeader"/>). Codes are read from the SMTP peer.
/// </summary>
public sealed partial class FleetClient(HttpClient http, SmtpServer smtp)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>An answer, read whole: its status, its body and the upstream that gave it (null when sent to a process directly).</summary>
    public sealed record Answer(HttpStatusCode Status, string Body, string? Upstream)
    {
        public T Read<T>() => JsonSerializer.Deserialize<T>(Body, TestJson.Options) ?? throw new ShouldAssertException($"No {typeof(T).Name} in {Body}");

        public Answer ShouldBe(HttpStatusCode status)
        {
            Status.ShouldBe(status, Body);
            return this;
        }
    }

    public sealed record Tokens(string AccessToken, string RefreshToken);

    public async Task<Answer> SendAsync(HttpMethod method, string path, object? body = null, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request, Cancel);
        var upstream = response.Headers.TryGetValues(NginxProxy.UpstreamHeader, out var values) ? values.Single() : null;
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(Cancel), upstream);
    }

    /// <summary>POST /auth/otp/request: the otp_token, and the answer (which process took it).</summary>
    public async Task<(string OtpToken, Answer Answer)> RequestCodeAsync(string email)
    {
        var answer = (await SendAsync(HttpMethod.Post, "/api/v1/auth/otp/request", new { email })).ShouldBe(HttpStatusCode.Accepted);
        return (answer.Read<JsonElement>().GetProperty("otp_token").GetString()!, answer);
    }

    /// <summary>The code in the newest mail to <paramref name="email"/>, waiting for it; each test signs in addresses of its own.</summary>
    public async Task<string> CodeMailedToAsync(string email, int mailsBefore = 0)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var mails = smtp.Received.Where(mail => mail.To.Any(to => to.Contains(email, StringComparison.OrdinalIgnoreCase))).ToList();
            if (mails.Count > mailsBefore)
            {
                return SixDigits().Match(mails[^1].Text ?? string.Empty).Value;
            }

            (DateTime.UtcNow < deadline).ShouldBeTrue($"No code mailed to {email} within 20 s");
            await Task.Delay(20, Cancel);
        }
    }

    public int MailsTo(string email) => smtp.Received.Count(mail => mail.To.Any(to => to.Contains(email, StringComparison.OrdinalIgnoreCase)));

    public async Task<Answer> VerifyAsync(string otpToken, string code) =>
        await SendAsync(HttpMethod.Post, "/api/v1/auth/otp/verify", new { otp_token = otpToken, code });

    public async Task<Tokens> SignInAsync(string email)
    {
        var before = MailsTo(email);
        var (otpToken, _) = await RequestCodeAsync(email);
        var verified = (await VerifyAsync(otpToken, await CodeMailedToAsync(email, before))).ShouldBe(HttpStatusCode.OK);
        return verified.Read<Tokens>();
    }

    public Task<Answer> RefreshAsync(string refreshToken) =>
        SendAsync(HttpMethod.Post, "/api/v1/auth/token/refresh", new { refresh_token = refreshToken });

    [GeneratedRegex(@"(?<![0-9])[0-9]{6}(?![0-9])")]
    private static partial Regex SixDigits();
}
