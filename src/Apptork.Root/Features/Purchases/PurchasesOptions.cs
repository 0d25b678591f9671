using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Purchases;

/// <summary>The <c>Purchases__*</c> settings: in-app purchases, one section per store; a store with no settings is off.</summary>
public sealed class PurchasesOptions
{
    public const string Section = "Purchases";

    public AppleStoreOptions Apple { get; set; } = new();
}

/// <summary>The <c>Purchases__Apple__*</c> settings, named as App Store Connect names them.</summary>
public sealed class AppleStoreOptions
{
    /// <summary>
    /// SHA-256 of Apple Root CA - G3, the root every App Store signature chains to (apple.com/certificateauthority).
    /// Pinned here rather than read from the system's store, which neither has it everywhere nor should decide this.
    /// </summary>
    public const string AppleRootCaG3Sha256 = "63343ABFB89A6A03EBB57E9B3F5FA7BE7C4F5C756F3017B3A8C488C3653E9179";

    /// <summary>The app's bundle id (<c>com.example.app</c>); App Store purchases are on when it is set.</summary>
    public string? BundleId { get; set; }

    /// <summary>The app's Apple ID (a number, App Store Connect → App Information); when set, notifications naming another app are refused.</summary>
    public long? AppAppleId { get; set; }

    /// <summary>
    /// Whether purchases made in the sandbox (TestFlight, Xcode with a sandbox account) are credited. Unset: yes in the
    /// embedded shape, no in production, where sandbox purchases cost nothing and would be free credits.
    /// </summary>
    public bool? AllowSandbox { get; set; }

    /// <summary>
    /// A root certificate (PEM, or base64 DER) trusted instead of Apple's, for tests that sign their own transactions.
    /// Refused when the host environment is Production (<c>ASPNETCORE_ENVIRONMENT</c> unset or <c>Production</c>).
    /// </summary>
    public string? TestRootCertificate { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(BundleId);
}

/// <summary>The effective App Store settings, resolved once: the sandbox default of the shape, the root trusted.</summary>
public sealed class AppleStoreSettings
{
    public AppleStoreSettings(IOptions<PurchasesOptions> options, RuntimeShape shape)
    {
        var apple = options.Value.Apple;
        IsConfigured = apple.IsConfigured;
        BundleId = apple.BundleId?.Trim() ?? string.Empty;
        AppAppleId = apple.AppAppleId;
        AllowSandbox = apple.AllowSandbox ?? shape.IsEmbedded;
        TrustedRootSha256 = apple.TestRootCertificate is { Length: > 0 } pem
            ? Convert.ToHexString(AppleStoreSettingsValidator.LoadCertificate(pem).GetCertHash(HashAlgorithmName.SHA256))
            : AppleStoreOptions.AppleRootCaG3Sha256;
    }

    public bool IsConfigured { get; }

    public string BundleId { get; }

    public long? AppAppleId { get; }

    public bool AllowSandbox { get; }

    /// <summary>Upper-case hex, as <see cref="Convert.ToHexString(byte[])"/> writes it.</summary>
    public string TrustedRootSha256 { get; }
}

/// <summary>Refuses at start a test root where real money is taken, and a test root that is not a certificate.</summary>
public sealed class AppleStoreSettingsValidator(IHostEnvironment environment) : IValidateOptions<PurchasesOptions>
{
    public ValidateOptionsResult Validate(string? name, PurchasesOptions options)
    {
        if (options.Apple.TestRootCertificate is not { Length: > 0 } root)
        {
            return ValidateOptionsResult.Success;
        }

        if (environment.IsProduction())
        {
            return ValidateOptionsResult.Fail("Purchases__Apple__TestRootCertificate is set while ASPNETCORE_ENVIRONMENT is Production (or unset): "
                + "a root other than Apple's would let anyone who holds its key sign purchases. Remove it, or run tests with ASPNETCORE_ENVIRONMENT=Development.");
        }

        try
        {
            LoadCertificate(root);
            return ValidateOptionsResult.Success;
        }
        catch (CryptographicException exception)
        {
            return ValidateOptionsResult.Fail($"Purchases__Apple__TestRootCertificate is not a certificate in PEM or base64 DER ({exception.Message}).");
        }
        catch (FormatException)
        {
            return ValidateOptionsResult.Fail("Purchases__Apple__TestRootCertificate is not a certificate in PEM or base64 DER.");
        }
    }

    internal static X509Certificate2 LoadCertificate(string text) => text.Contains("-----BEGIN", StringComparison.Ordinal)
        ? X509Certificate2.CreateFromPem(text)
        : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(text.Trim()));
}
