using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Auth;

public sealed class JwtOptions
{
    [Required]
    public string Issuer { get; set; } = "apptork-root";

    [Required]
    public string Audience { get; set; } = "apptork-root-api";

    [Range(1, 60)]
    public int AccessTokenMinutes { get; set; } = 15;

    /// <summary>Counted from sign-in, not from the last refresh: a stolen refresh token dies with its session.</summary>
    [Range(1, 365)]
    public int RefreshTokenDays { get; set; } = 30;

    /// <summary>
    /// <c>Auth__Jwt__SigningKeys__0</c>, <c>__1</c>…: EC P-256 or RSA (2048+) private keys in PEM, inline or as a file
    /// path. The first signs; all are published in the JWKS, so a new key goes first and the old one stays second for
    /// one access-token lifetime: rotation logs nobody out.
    /// </summary>
    public IList<string> SigningKeys { get; } = [];
}
