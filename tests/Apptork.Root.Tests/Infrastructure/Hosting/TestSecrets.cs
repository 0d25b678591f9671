using System.Security.Cryptography;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>
/// The secrets a production-shape process must be given, generated once per test run (as an operator would with
/// openssl), in configuration-key form for in-process hosts and environment-variable form for child processes.
/// </summary>
public static class TestSecrets
{
    public static string AuthSecret { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));

    public static string SigningKeyPem { get; } = NewSigningKeyPem();

    /// <summary>The health page's secret path, which the production shape requires.</summary>
    public static string HealthPath { get; } = $"/health-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";

    public static IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Auth:Secret"] = AuthSecret,
        ["Auth:Jwt:SigningKeys:0"] = SigningKeyPem,
        ["Health:Path"] = HealthPath,
    };

    public static IReadOnlyDictionary<string, string> Environment => Settings.ToDictionary(
        setting => setting.Key.Replace(":", "__", StringComparison.Ordinal), setting => setting.Value!);

    public static string NewSigningKeyPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportECPrivateKeyPem();
    }
}
