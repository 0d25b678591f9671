using Microsoft.Kiota.Abstractions.Authentication;

namespace KiotaFlow;

/// <summary>
/// The signed-in session's access token, handed to Kiota's bearer authentication provider for each request to the API's
/// own host: none before sign-in, and never to another host.
/// </summary>
public sealed class SessionTokens(Uri apiBaseUrl) : IAccessTokenProvider
{
    public string? AccessToken { get; set; }

    public AllowedHostsValidator AllowedHostsValidator { get; } = new([apiBaseUrl.Host]);

    public Task<string> GetAuthorizationTokenAsync(
        Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(AccessToken is not null && AllowedHostsValidator.IsUrlHostValid(uri) ? AccessToken : string.Empty);
}
