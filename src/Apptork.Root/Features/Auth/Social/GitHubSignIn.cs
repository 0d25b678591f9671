using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Sign-in with GitHub, which has no ID tokens: a code from GitHub's OAuth flow is exchanged for an access token (or
/// the app sends the access token itself), and the person is whoever GitHub's API says owns that token.
/// </summary>
public sealed partial class GitHubSignIn(GitHubSignInOptions options, IHttpClientFactory httpClients, ILogger<GitHubSignIn> logger) : ISocialProvider
{
    private readonly Uri api = new(options.ApiUrl.TrimEnd('/') + "/");

    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.ClientId);

    public async Task<ProviderProfile> VerifyAsync(string? code, string? accessToken, CancellationToken cancellationToken)
    {
        var (token, attr) = code is not null
            ? (await ExchangeAsync(code, cancellationToken), "code")
            : (await RequireOursAsync(accessToken!, cancellationToken), "access_token");
        var user = await GetAsync<GitHubUser>("user", token, attr, cancellationToken);
        var emails = await GetAsync<GitHubEmail[]>("user/emails", token, attr, cancellationToken);
        if (user.Id <= 0)
        {
            throw ProviderHttp.Unavailable();
        }

        // GitHub's primary address is the only one it vouches for as the account's, and only once verified; GitHub runs no
        // mailboxes, so even then it is never the authority for it (EmailAuthority).
        var primary = emails.FirstOrDefault(email => email.Primary);
        return ProviderProfile.Create(
            SocialProviders.GitHub,
            user.Id.ToString(CultureInfo.InvariantCulture),
            primary?.Email,
            EmailAuthority.Trust(SocialProviders.GitHub, primary?.Email, primary is { Verified: true }),
            user.Name ?? user.Login);
    }

    /// <summary>GitHub answers a bad code with 200 and an <c>error</c> field, so both are checked.</summary>
    private async Task<string> ExchangeAsync(string code, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = options.ClientId!,
                ["client_secret"] = options.ClientSecret!,
                ["code"] = code,
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var answer = await ProviderHttp.SendAsync<TokenAnswer>(httpClients, request, SocialProviders.GitHub, "code", logger, cancellationToken);
        if (answer.Error is not null || string.IsNullOrEmpty(answer.AccessToken))
        {
            LogCodeRefused(logger, answer.Error ?? "no access token");
            throw ProviderHttp.Refused("code");
        }

        return answer.AccessToken;
    }

    /// <summary>
    /// An access token sent by the app is accepted only when GitHub confirms it was issued to our OAuth app. Any token
    /// would otherwise do, including one a person granted to some other app, whose owner could then sign in as them here.
    /// </summary>
    private async Task<string> RequireOursAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, $"applications/{Uri.EscapeDataString(options.ClientId!)}/token"))
        {
            Content = JsonContent.Create(new { access_token = accessToken }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.ClientId}:{options.ClientSecret}")));
        AcceptGitHubJson(request);
        await ProviderHttp.SendAsync<TokenCheck>(httpClients, request, SocialProviders.GitHub, "access_token", logger, cancellationToken);
        return accessToken;
    }

    private async Task<T> GetAsync<T>(string path, string token, string attr, CancellationToken cancellationToken)
        where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        AcceptGitHubJson(request);
        return await ProviderHttp.SendAsync<T>(httpClients, request, SocialProviders.GitHub, attr, logger, cancellationToken);
    }

    private static void AcceptGitHubJson(HttpRequestMessage request)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GitHub refused a sign-in code: {Error}")]
    private static partial void LogCodeRefused(ILogger logger, string error);

    private sealed record TokenAnswer(string? AccessToken, string? Error);

    private sealed record TokenCheck(string? Token);

    private sealed record GitHubUser(long Id, string? Login, string? Name);

    private sealed record GitHubEmail(string? Email, bool Primary, bool Verified);
}
