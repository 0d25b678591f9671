using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Purchases;

/// <summary>Why something the App Store supposedly signed was refused; logged, never sent to the client.</summary>
public sealed class AppStoreVerificationException(string reason) : Exception(reason);

/// <summary>
/// Verifies what the App Store signs (StoreKit 2 transactions, App Store Server Notifications V2): a compact JWS whose
/// <c>x5c</c> header carries the leaf, Apple's intermediate and the root. The whole chain is checked (each certificate
/// signed by the next, all valid when it was signed, the root Apple Root CA - G3 by its pinned fingerprint, Apple's marker extensions on
/// the leaf and the intermediate), then the ES256 signature with the leaf's key; only then is the payload read.
/// </summary>
/// <remarks>
/// Apple publishes its App Store Server Library for Swift, Java, Python and Node only, so the rules it applies are
/// written here, on .NET's own X.509 chain engine and IdentityModel's JWS validation. Revocation (OCSP) is not asked:
/// it would make every purchase wait on ocsp.apple.com; certificates Apple rotates expire within their validity dates.
/// </remarks>
public sealed class AppStoreSignedData(AppleStoreSettings settings, TimeProvider time)
{
    /// <summary>On the leaf: Apple's "Mac App Store and iTunes Store Receipt Signing" marker.</summary>
    public const string LeafMarkerOid = "1.2.840.113635.100.6.11.1";

    /// <summary>On the intermediate: Apple's Worldwide Developer Relations CA marker.</summary>
    public const string IntermediateMarkerOid = "1.2.840.113635.100.6.2.1";

    private static readonly JsonWebTokenHandler Handler = new();

    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web);

    public async Task<T> VerifyAsync<T>(string jws)
        where T : class
    {
        if (!Handler.CanReadToken(jws) || jws.Split('.') is not { Length: 3 } parts)
        {
            throw new AppStoreVerificationException("not a compact JWS");
        }

        var header = ReadHeader(parts[0]);
        var payload = Decode(parts[1]);
        if (header.Alg != SecurityAlgorithms.EcdsaSha256)
        {
            throw new AppStoreVerificationException($"algorithm '{header.Alg}' instead of ES256");
        }

        if (header.X5c is not { Length: 3 } encoded || encoded.Any(string.IsNullOrEmpty))
        {
            throw new AppStoreVerificationException("x5c does not hold leaf, intermediate and root");
        }

        using var leaf = Certificate(encoded[0]);
        using var intermediate = Certificate(encoded[1]);
        using var root = Certificate(encoded[2]);
        VerifyChain(leaf, intermediate, root, SignedAt(payload));

        using var key = leaf.GetECDsaPublicKey() ?? throw new AppStoreVerificationException("the leaf's key is not an EC key");
        var result = await Handler.ValidateTokenAsync(jws, new TokenValidationParameters
        {
            // The leaf's key, the only one: the header names it by x5c, not by a kid IdentityModel could match.
            // Uncached: IdentityModel caches a key's signature provider by the public key, and this ECDsa is disposed after the call.
            IssuerSigningKey = new ECDsaSecurityKey(key) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } },
            TryAllIssuerSigningKeys = true,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireSignedTokens = true,
            // The App Store's JWS has neither issuer, audience nor expiry: what it is for is checked in its payload.
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        if (!result.IsValid)
        {
            throw new AppStoreVerificationException($"signature: {result.Exception?.GetType().Name}");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(payload, PayloadJson)
                ?? throw new AppStoreVerificationException("empty payload");
        }
        catch (JsonException exception)
        {
            throw new AppStoreVerificationException($"payload: {exception.Message}");
        }
    }

    /// <summary>
    /// When the App Store signed it (<c>signedDate</c>), as Apple's own library checks the chain: a transaction StoreKit
    /// kept unfinished, signed by a certificate since expired, still verifies. Read before the signature is checked, it
    /// only chooses the date: a forger would still need a key Apple's chain certifies. Now, when absent or absurd.
    /// </summary>
    private DateTimeOffset SignedAt(byte[] payload)
    {
        var now = time.GetUtcNow();
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("signedDate", out var signed)
                && signed.TryGetInt64(out var milliseconds) && milliseconds > 0 && DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) is var at && at <= now
                ? at
                : now;
        }
        catch (Exception exception) when (exception is JsonException or ArgumentOutOfRangeException)
        {
            return now;
        }
    }

    private static byte[] Decode(string base64Url)
    {
        try
        {
            return Base64Url.DecodeFromChars(base64Url);
        }
        catch (FormatException)
        {
            throw new AppStoreVerificationException("a part is not base64url");
        }
    }

    private void VerifyChain(X509Certificate2 leaf, X509Certificate2 intermediate, X509Certificate2 root, DateTimeOffset signedAt)
    {
        if (Convert.ToHexString(root.GetCertHash(HashAlgorithmName.SHA256)) != settings.TrustedRootSha256)
        {
            throw new AppStoreVerificationException($"the chain ends in '{root.Subject}', not the pinned root");
        }

        if (!HasExtension(leaf, LeafMarkerOid) || !HasExtension(intermediate, IntermediateMarkerOid))
        {
            throw new AppStoreVerificationException("Apple's marker extensions are missing from the leaf or the intermediate");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.ExtraStore.Add(intermediate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = signedAt.UtcDateTime;
        if (!chain.Build(leaf))
        {
            throw new AppStoreVerificationException("chain: " + string.Join(", ", chain.ChainStatus.Select(status => status.Status)));
        }

        // Built the way the header says, not through another path the engine found.
        var built = chain.ChainElements.Select(element => element.Certificate.Thumbprint).ToArray();
        if (!built.SequenceEqual([leaf.Thumbprint, intermediate.Thumbprint, root.Thumbprint]))
        {
            throw new AppStoreVerificationException("the chain the engine built is not the one in x5c");
        }
    }

    private static bool HasExtension(X509Certificate2 certificate, string oid) =>
        certificate.Extensions.Any(extension => extension.Oid?.Value == oid);

    private static X509Certificate2 Certificate(string base64Der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64Der));
        }
        catch (Exception exception) when (exception is FormatException or CryptographicException)
        {
            throw new AppStoreVerificationException("x5c holds something that is not a DER certificate");
        }
    }

    private static JwsHeader ReadHeader(string encoded)
    {
        try
        {
            return JsonSerializer.Deserialize<JwsHeader>(Decode(encoded), PayloadJson)
                ?? throw new AppStoreVerificationException("empty header");
        }
        catch (JsonException)
        {
            throw new AppStoreVerificationException("unreadable header");
        }
    }

    private sealed record JwsHeader([property: JsonPropertyName("alg")] string? Alg, [property: JsonPropertyName("x5c")] string[]? X5c);
}
