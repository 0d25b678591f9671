namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// The <c>Auth__Apple__*</c> settings. Sign-in with Apple is on when at least one client id (bundle id or Services
/// ID) is set; the team id, key id and .p8 private key additionally let the server exchange authorization codes for
/// Apple refresh tokens, which it revokes when the account is deleted.
/// </summary>
public sealed class AppleSignInOptions
{
    public const string Section = "Auth:Apple";

    public IList<string> ClientIds { get; } = [];

    public string Issuer { get; set; } = "https://appleid.apple.com";

    public string JwksUrl { get; set; } = "https://appleid.apple.com/auth/keys";

    public string? TeamId { get; set; }

    public string? KeyId { get; set; }

    /// <summary>The .p8 key from Apple's developer site: its PEM text, or the path of the file.</summary>
    public string? PrivateKey { get; set; }

    public string TokenUrl { get; set; } = "https://appleid.apple.com/auth/token";

    public string RevokeUrl { get; set; } = "https://appleid.apple.com/auth/revoke";
}
