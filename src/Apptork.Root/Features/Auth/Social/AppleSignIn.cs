using Microsoft.IdentityModel.JsonWebTokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>Sign-in with Apple: an Apple ID token, verified against Apple's published keys.</summary>
public sealed class AppleSignIn(AppleSignInOptions options, IHttpClientFactory httpClients, TimeProvider time, ILogger<AppleSignIn> logger) : ISocialProvider
{
    private readonly IdTokenVerifier verifier = new(
        new ProviderSigningKeys(SocialProviders.Apple, new Uri(options.JwksUrl), httpClients, time, logger),
        options.ClientIds.ToArray(),
        [options.Issuer],
        time);

    public bool IsConfigured => options.ClientIds.Count > 0;

    /// <summary>
    /// The profile, and the client id the token was issued to (an app's bundle id or a web Services ID), which Apple's
    /// token and revoke endpoints want back. Apple sends the name only once, to the app, which passes it along.
    /// </summary>
    public async Task<(ProviderProfile Profile, string ClientId)> VerifyAsync(string idToken, string? displayName, CancellationToken cancellationToken)
    {
        var token = await verifier.VerifyAsync(idToken, "id_token", cancellationToken);
        var profile = ProviderProfile.Create(SocialProviders.Apple, token.Subject, IdTokenVerifier.Text(token, "email"), Trust(token), displayName);
        return (profile, token.Audiences.First(options.ClientIds.Contains));
    }

    /// <summary>The subject of an ID token that Apple's own token endpoint handed us, checked like any other.</summary>
    public async Task<string> VerifiedSubjectAsync(string idToken, string attr, CancellationToken cancellationToken) =>
        (await verifier.VerifyAsync(idToken, attr, cancellationToken)).Subject;

    /// <summary>
    /// Apple verifies every address it hands out, but runs only its relay and iCloud mail (<see cref="EmailAuthority"/>): a
    /// verified address elsewhere may have changed hands since. Apple sends the flag as the string "true".
    /// </summary>
    private static EmailTrust Trust(JsonWebToken token) =>
        EmailAuthority.Trust(SocialProviders.Apple, IdTokenVerifier.Text(token, "email"), IdTokenVerifier.IsTrue(token, "email_verified"));
}
