namespace Apptork.Root.Features.Auth.Social;

/// <summary>The <c>Auth__Google__*</c> settings. Sign-in with Google is on when at least one client id is set.</summary>
public sealed class GoogleSignInOptions
{
    public const string Section = "Auth:Google";

    /// <summary>The OAuth client ids (iOS, Android, web) whose ID tokens are accepted: the tokens' <c>aud</c>.</summary>
    public IList<string> ClientIds { get; } = [];

    public string Issuer { get; set; } = "https://accounts.google.com";

    public string JwksUrl { get; set; } = "https://www.googleapis.com/oauth2/v3/certs";

    /// <summary>Google signs with either spelling of its issuer, with or without the scheme.</summary>
    public IReadOnlyList<string> ValidIssuers =>
        Issuer.StartsWith("https://", StringComparison.Ordinal) ? [Issuer, Issuer["https://".Length..]] : [Issuer];
}
