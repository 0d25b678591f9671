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

    /// <summary>
    /// Google's own advice: it is the authority for an address when the address is a Gmail one, or when the token
    /// carries <c>hd</c> (a Google Workspace domain, whose mailboxes Google runs). Any other address, even marked
    /// verified, was checked once when the Google account was made and may belong to someone else by now.
    /// </summary>
    private static EmailTrust Trust(JsonWebToken token)
    {
        if (!IdTokenVerifier.IsTrue(token, "email_verified") || IdTokenVerifier.Text(token, "email") is not { } email)
        {
            return EmailTrust.Unverified;
        }

        var domain = email[(email.LastIndexOf('@') + 1)..];
        var googleRunsTheMailbox = domain.Equals("gmail.com", StringComparison.OrdinalIgnoreCase)
            || domain.Equals("googlemail.com", StringComparison.OrdinalIgnoreCase)
            || IdTokenVerifier.Text(token, "hd") is not null;
        return googleRunsTheMailbox ? EmailTrust.Authoritative : EmailTrust.Verified;
    }
}
