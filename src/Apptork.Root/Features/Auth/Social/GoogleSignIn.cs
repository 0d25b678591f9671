using Microsoft.IdentityModel.JsonWebTokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>A provider that may be switched off by leaving its client id unset.</summary>
public interface ISocialProvider
{
    bool IsConfigured { get; }
}

/// <summary>Sign-in with Google: a Google ID token, verified against Google's published keys.</summary>
public sealed class GoogleSignIn(GoogleSignInOptions options, IHttpClientFactory httpClients, TimeProvider time, ILogger<GoogleSignIn> logger) : ISocialProvider
{
    private readonly IdTokenVerifier verifier = new(
        new ProviderSigningKeys(SocialProviders.Google, new Uri(options.JwksUrl), httpClients, time, logger),
        options.ClientIds.ToArray(),
        options.ValidIssuers,
        time);

    public bool IsConfigured => options.ClientIds.Count > 0;

    public async Task<ProviderProfile> VerifyAsync(string idToken, CancellationToken cancellationToken)
    {
        var token = await verifier.VerifyAsync(idToken, "id_token", cancellationToken);
        return ProviderProfile.Create(SocialProviders.Google, token.Subject, IdTokenVerifier.Text(token, "email"), Trust(token), IdTokenVerifier.Text(token, "name"));
    }

    /// <summary>Google's own advice: Gmail addresses and Workspace accounts (<c>hd</c>) are Google's; see <see cref="EmailAuthority"/>.</summary>
    private static EmailTrust Trust(JsonWebToken token) => EmailAuthority.Trust(
        SocialProviders.Google, IdTokenVerifier.Text(token, "email"), IdTokenVerifier.IsTrue(token, "email_verified"), IdTokenVerifier.Text(token, "hd"));
}
