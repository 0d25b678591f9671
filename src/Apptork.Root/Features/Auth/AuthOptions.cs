using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Auth;

/// <summary>The <c>Auth__*</c> settings.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// <c>Auth__Secret</c>: at least 32 random bytes, base64. Keys the one-time-code hashes and refresh-token
    /// successors. Required in production; the embedded shape makes one under <see cref="KeyDirectory"/>.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary><c>Auth__KeyDirectory</c>: where the embedded shape keeps the secrets it generates.</summary>
    [Required]
    public string KeyDirectory { get; set; } = "data/keys";

    public JwtOptions Jwt { get; set; } = new();

    public OtpOptions Otp { get; set; } = new();
}

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

public sealed class OtpOptions
{
    [Range(1, 60)]
    public int LifetimeMinutes { get; set; } = 10;

    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    [Range(0, 3600)]
    public int ResendAfterSeconds { get; set; } = 60;

    /// <summary>Wrong codes allowed per email address across all its challenges within <see cref="BudgetWindowHours"/>.</summary>
    [Range(1, 1000)]
    public int FailedVerifyBudget { get; set; } = 10;

    [Range(1, 168)]
    public int BudgetWindowHours { get; set; } = 24;
}
