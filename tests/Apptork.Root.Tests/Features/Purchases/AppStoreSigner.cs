using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Apptork.Root.Features.Purchases;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Tests.Features.Purchases;

/// <summary>
/// The App Store's signing, with test-owned keys: a root, an intermediate and a leaf shaped as Apple's (P-384 CAs, a P-256
/// leaf, Apple's marker extensions), signing StoreKit 2 transactions and App Store Server Notifications V2 as ES256 JWS
/// with the chain in <c>x5c</c>. Each part can be made wrong, for the forgeries the server must refuse.
/// </summary>
public sealed class AppStoreSigner : IDisposable
{
    public const string BundleId = "com.apptork.tests";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private AppStoreSigner(X509Certificate2 root, X509Certificate2 intermediate, X509Certificate2 leaf)
    {
        Root = root;
        Intermediate = intermediate;
        Leaf = leaf;
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    public X509Certificate2 Leaf { get; }

    /// <summary>What the server is configured to trust instead of Apple Root CA - G3.</summary>
    public string RootPem => Root.ExportCertificatePem();

    public Dictionary<string, string?> Settings(bool? allowSandbox = null) => new()
    {
        ["Purchases:Apple:BundleId"] = BundleId,
        ["Purchases:Apple:TestRootCertificate"] = RootPem,
        ["Purchases:Apple:AllowSandbox"] = allowSandbox?.ToString(),
    };

    /// <param name="leafMarker">Whether the leaf carries Apple's receipt-signing marker.</param>
    /// <param name="intermediateMarker">Whether the intermediate carries Apple's WWDR marker.</param>
    /// <param name="leafExpired">A leaf whose validity ended yesterday.</param>
    /// <param name="leafIssuer">Another CA (with its key) to issue the leaf instead of the intermediate.</param>
    public static AppStoreSigner Create(
        bool leafMarker = true, bool intermediateMarker = true, bool leafExpired = false, X509Certificate2? leafIssuer = null, X509Certificate2? root = null)
    {
        var now = DateTimeOffset.UtcNow;
        root ??= Authority("CN=Test Apple Root CA - G3, O=Apptork Tests", issuer: null, marker: null, now);
        var intermediate = Authority("CN=Test Apple Worldwide Developer Relations CA - G6, O=Apptork Tests", root, intermediateMarker ? AppStoreSignedData.IntermediateMarkerOid : null, now);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Prod ECC Mac App Store and iTunes Store Receipt Signing, O=Apptork Tests", leafKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        if (leafMarker)
        {
            request.CertificateExtensions.Add(Marker(AppStoreSignedData.LeafMarkerOid));
        }

        var issuer = leafIssuer ?? intermediate;
        var (notBefore, notAfter) = leafExpired ? (now.AddDays(-30), now.AddDays(-1)) : (now.AddDays(-1), now.AddDays(30));
        using var issued = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        return new AppStoreSigner(root, intermediate, issued.CopyWithPrivateKey(leafKey));
    }

    /// <summary>A StoreKit 2 transaction of a consumable, as <c>Transaction.jwsRepresentation</c> carries it.</summary>
    public static Dictionary<string, object?> Transaction(
        string productId, string? transactionId = null, Guid? appAccountToken = null, string environment = "Production", string bundleId = BundleId,
        DateTimeOffset? revoked = null, int quantity = 1)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        transactionId ??= Random.Shared.NextInt64(2_000_000_000_000, 9_000_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var payload = new Dictionary<string, object?>
        {
            ["transactionId"] = transactionId,
            ["originalTransactionId"] = transactionId,
            ["bundleId"] = bundleId,
            ["productId"] = productId,
            ["purchaseDate"] = now,
            ["originalPurchaseDate"] = now,
            ["quantity"] = quantity,
            ["type"] = "Consumable",
            ["inAppOwnershipType"] = "PURCHASED",
            ["signedDate"] = now,
            ["environment"] = environment,
            ["transactionReason"] = "PURCHASE",
            ["storefront"] = "USA",
            ["storefrontId"] = "143441",
            ["price"] = 4990,
            ["currency"] = "USD",
        };
        if (appAccountToken is { } token)
        {
            payload["appAccountToken"] = token.ToString();
        }

        if (revoked is { } at)
        {
            payload["revocationDate"] = at.ToUnixTimeMilliseconds();
            payload["revocationReason"] = 0;
        }

        return payload;
    }

    /// <summary>An App Store Server Notification V2 body's decoded payload around a signed transaction.</summary>
    public static Dictionary<string, object?> Notification(string type, string signedTransaction, string? uuid = null, string environment = "Production", string bundleId = BundleId) => new()
    {
        ["notificationType"] = type,
        ["notificationUUID"] = uuid ?? Guid.NewGuid().ToString(),
        ["data"] = new Dictionary<string, object?>
        {
            ["appAppleId"] = 1234567890L,
            ["bundleId"] = bundleId,
            ["bundleVersion"] = "1",
            ["environment"] = environment,
            ["signedTransactionInfo"] = signedTransaction,
        },
        ["version"] = "2.0",
        ["signedDate"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    };

    /// <summary>The payload signed ES256 by the leaf, the chain in <c>x5c</c> (or the certificates given).</summary>
    /// <param name="rawX5c">An <c>x5c</c> header written as given, for the forgeries no certificate list makes.</param>
    public string Sign(object payload, IReadOnlyList<X509Certificate2>? x5c = null, ECDsa? key = null, object? rawX5c = null)
    {
        var header = new Dictionary<string, object>
        {
            ["x5c"] = rawX5c ?? (x5c ?? [Leaf, Intermediate, Root]).Select(certificate => Convert.ToBase64String(certificate.RawData)).ToArray(),
        };
        using var leafKey = Leaf.GetECDsaPrivateKey()!;
        var signingKey = new ECDsaSecurityKey(key ?? leafKey) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };
        var credentials = new SigningCredentials(signingKey, SecurityAlgorithms.EcdsaSha256);
        return Handler.CreateToken(JsonSerializer.Serialize(payload), credentials, header);
    }

    /// <summary>The same CAs with another leaf (one they did not issue, for a forgery).</summary>
    public AppStoreSigner WithLeaf(X509Certificate2 leaf) => new(Root, Intermediate, leaf);

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
        Leaf.Dispose();
    }

    private static X509Certificate2 Authority(string subject, X509Certificate2? issuer, string? marker, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, issuer is not null, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (marker is not null)
        {
            request.CertificateExtensions.Add(Marker(marker));
        }

        if (issuer is null)
        {
            return request.CreateSelfSigned(now.AddYears(-1), now.AddYears(10));
        }

        using var issued = request.Create(issuer, now.AddYears(-1), now.AddYears(5), RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Apple's marker extensions hold an ASN.1 NULL.</summary>
    private static X509Extension Marker(string oid) => new(new Oid(oid), [0x05, 0x00], critical: false);
}
