using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apptork.Root.Platform.Configuration;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Purchases;

/// <summary>The <c>Purchases__*</c> settings: in-app purchases, one section per store; a store with no settings is off.</summary>
public sealed class PurchasesOptions
{
    public const string Section = "Purchases";

    public AppleStoreOptions Apple { get; set; } = new();

    public GooglePlayOptions Google { get; set; } = new();
}

/// <summary>The <c>Purchases__Google__*</c> settings, named as Play Console and Google Cloud name them.</summary>
public sealed class GooglePlayOptions
{
    /// <summary>The app's package name (<c>com.example.app</c>); with <see cref="ServiceAccountKey"/>, Google Play purchases are on.</summary>
    public string? PackageName { get; set; }

    /// <summary>
    /// The JSON key of the service account Play Console was given access to (View financial data, Manage orders): the
    /// whole file's content, a secret. Its <c>token_uri</c> is where access tokens are asked for.
    /// </summary>
    public string? ServiceAccountKey { get; set; }

    /// <summary>The Google Play Developer API; another URL only for tests and proxies.</summary>
    public string ApiBase { get; set; } = "https://androidpublisher.googleapis.com";

    /// <summary>
    /// Whether purchases by license testers (free test cards) are credited. Unset: yes in the embedded shape, no in
    /// production, where they cost nothing.
    /// </summary>
    public bool? AllowTestPurchases { get; set; }

    /// <summary>The audience set on the Pub/Sub push subscription; real-time developer notifications are accepted when it is set.</summary>
    public string? NotificationAudience { get; set; }

    /// <summary>The service account the push subscription authenticates as: the only <c>email</c> accepted in its tokens.</summary>
    public string? NotificationServiceAccount { get; set; }

    /// <summary>Google's signing keys for the push tokens; another URL only for tests.</summary>
    public string JwksUrl { get; set; } = "https://www.googleapis.com/oauth2/v3/certs";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(PackageName) && !string.IsNullOrWhiteSpace(ServiceAccountKey);
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
            ? Convert.ToHexString(PurchasesSettingsValidator.LoadCertificate(pem).GetCertHash(HashAlgorithmName.SHA256))
            : AppleStoreOptions.AppleRootCaG3Sha256;
    }

    public bool IsConfigured { get; }

    public string BundleId { get; }

    public long? AppAppleId { get; }

    public bool AllowSandbox { get; }

    /// <summary>Upper-case hex, as <see cref="Convert.ToHexString(byte[])"/> writes it.</summary>
    public string TrustedRootSha256 { get; }
}

/// <summary>The effective Google Play settings: the test-purchase default of the shape, the service-account credential made once.</summary>
public sealed class GooglePlaySettings
{
    private readonly Lazy<ServiceAccountCredential> credential;

    public GooglePlaySettings(IOptions<PurchasesOptions> options, RuntimeShape shape)
    {
        var google = options.Value.Google;
        IsConfigured = google.IsConfigured;
        PackageName = google.PackageName?.Trim() ?? string.Empty;
        ApiBase = google.ApiBase;
        AllowTestPurchases = google.AllowTestPurchases ?? shape.IsEmbedded;
        NotificationAudience = google.NotificationAudience is { Length: > 0 } audience ? audience.Trim() : null;
        NotificationServiceAccount = google.NotificationServiceAccount?.Trim();
        JwksUrl = new Uri(google.JwksUrl);
        // Made at the first purchase, not at start: the validator has already read the key.
        credential = new Lazy<ServiceAccountCredential>(() => GooglePlayCredentials.Create(google.ServiceAccountKey!));
    }

    public bool IsConfigured { get; }

    public string PackageName { get; }

    public string ApiBase { get; }

    public bool AllowTestPurchases { get; }

    public string? NotificationAudience { get; }

    public string? NotificationServiceAccount { get; }

    public Uri JwksUrl { get; }

    public ServiceAccountCredential Credential => credential.Value;
}

/// <summary>
/// Refuses at start what could only fail at a user's purchase, or let anyone mint credits: a test root where real money
/// is taken, a test root that is not a certificate, half of Google Play's settings, a service-account key Google's
/// library cannot read, plain-http Google URLs in production.
/// </summary>
public sealed class PurchasesSettingsValidator(IHostEnvironment environment, RuntimeShape shape) : IValidateOptions<PurchasesOptions>
{
    public ValidateOptionsResult Validate(string? name, PurchasesOptions options)
    {
        var failures = new List<string>();
        ValidateApple(options.Apple, failures);
        ValidateGoogle(options.Google, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidateApple(AppleStoreOptions apple, List<string> failures)
    {
        if (apple.TestRootCertificate is not { Length: > 0 } root)
        {
            return;
        }

        if (environment.IsProduction())
        {
            failures.Add("Purchases__Apple__TestRootCertificate is set while ASPNETCORE_ENVIRONMENT is Production (or unset): "
                + "a root other than Apple's would let anyone who holds its key sign purchases. Remove it, or run tests with ASPNETCORE_ENVIRONMENT=Development.");
            return;
        }

        try
        {
            LoadCertificate(root);
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            failures.Add("Purchases__Apple__TestRootCertificate is not a certificate in PEM or base64 DER.");
        }
    }

    private void ValidateGoogle(GooglePlayOptions google, List<string> failures)
    {
        var named = !string.IsNullOrWhiteSpace(google.PackageName);
        var keyed = !string.IsNullOrWhiteSpace(google.ServiceAccountKey);
        if (named != keyed)
        {
            failures.Add("Purchases__Google__PackageName and Purchases__Google__ServiceAccountKey go together: the package name says which app's "
                + "purchases to verify, the service account's JSON key lets the server ask Google.");
        }

        if (keyed)
        {
            if (GooglePlayCredentials.TryRead(google.ServiceAccountKey!, out var tokenUri) is { } problem)
            {
                failures.Add($"Purchases__Google__ServiceAccountKey is not a service account's JSON key ({problem}).");
            }
            else
            {
                ProviderUrls.Check("Purchases__Google__ServiceAccountKey's token_uri", tokenUri, shape, failures);
            }
        }

        ProviderUrls.Check("Purchases__Google__ApiBase", google.ApiBase, shape, failures);
        ProviderUrls.Check("Purchases__Google__JwksUrl", google.JwksUrl, shape, failures);
        if (!string.IsNullOrWhiteSpace(google.NotificationAudience) && string.IsNullOrWhiteSpace(google.NotificationServiceAccount))
        {
            failures.Add("Purchases__Google__NotificationServiceAccount is required with Purchases__Google__NotificationAudience: "
                + "the service account of the Pub/Sub push subscription, the only sender accepted.");
        }
    }

    internal static X509Certificate2 LoadCertificate(string text) => text.Contains("-----BEGIN", StringComparison.Ordinal)
        ? X509Certificate2.CreateFromPem(text)
        : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(text.Trim()));
}
