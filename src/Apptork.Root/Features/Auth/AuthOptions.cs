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
