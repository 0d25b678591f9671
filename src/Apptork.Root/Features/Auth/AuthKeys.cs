using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Persistence;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth;

/// <summary>
/// The key material of sign-in, loaded once at start: the JWT signing keys and the keys derived from
/// <c>Auth__Secret</c>. The production shape must be given them and refuses weak ones; the embedded shape creates
/// them on first start under <c>Auth__KeyDirectory</c> and keeps them, so tokens survive restarts.
/// </summary>
public sealed class AuthKeys
{
    private const int MinimumSecretBytes = 32;
    private const int MinimumRsaBits = 2048;

    private AuthKeys(IReadOnlyList<SecurityKey> signingKeys, byte[] secret)
    {
        SigningKeys = signingKeys;
        OtpKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: Encoding.ASCII.GetBytes("apptork-root/otp-code"));
        RefreshKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: Encoding.ASCII.GetBytes("apptork-root/refresh-successor"));
        RegistrationKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: Encoding.ASCII.GetBytes("apptork-root/registration-email"));
    }

    /// <summary>All published keys; the first one signs.</summary>
    public IReadOnlyList<SecurityKey> SigningKeys { get; }

    public SigningCredentials SigningCredentials => new(SigningKeys[0], Algorithm(SigningKeys[0]));

    /// <summary>Keys the HMAC of one-time codes (a bare hash of a 6-digit code is reversible in a million tries).</summary>
    public byte[] OtpKey { get; }

    /// <summary>Derives a refresh token's successor, so concurrent refreshes of one token agree on it.</summary>
    public byte[] RefreshKey { get; }

    /// <summary>
    /// Keys the hash of a registration's canonical address, kept after the account and its address are erased: a bare
    /// hash of an address is found again by hashing a list of known addresses.
    /// </summary>
    public byte[] RegistrationKey { get; }

    public static string Algorithm(SecurityKey key) => key is ECDsaSecurityKey ? SecurityAlgorithms.EcdsaSha256 : SecurityAlgorithms.RsaSha256;

    public static AuthKeys Load(AuthOptions options, RuntimeShape shape, string contentRoot)
    {
        var directory = Path.GetFullPath(options.KeyDirectory, contentRoot);
        byte[] secret;
        if (!string.IsNullOrWhiteSpace(options.Secret))
        {
            secret = DecodeSecret(options.Secret);
        }
        else if (shape.IsProduction)
        {
            throw new StartupConfigurationException("Auth__Secret", $"is required in the production shape: {MinimumSecretBytes}+ random bytes in base64, e.g. `openssl rand -base64 48`.");
        }
        else
        {
            secret = Convert.FromBase64String(PrivateFiles.ReadOrCreateText(Path.Combine(directory, "auth-secret.txt"), () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(48))));
        }

        IReadOnlyList<SecurityKey> signingKeys;
        if (options.Jwt.SigningKeys.Count > 0)
        {
            signingKeys = options.Jwt.SigningKeys.Select((value, index) => LoadSigningKey(value, $"Auth__Jwt__SigningKeys__{index}", contentRoot)).ToArray();
        }
        else if (shape.IsProduction)
        {
            throw new StartupConfigurationException("Auth__Jwt__SigningKeys__0", "is required in the production shape: an EC P-256 or RSA (2048+) private key in PEM, inline or as a file path, e.g. from `openssl ecparam -name prime256v1 -genkey -noout`.");
        }
        else
        {
            var pem = PrivateFiles.ReadOrCreateText(Path.Combine(directory, "jwt-signing-key.pem"), () =>
            {
                using var generated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                return generated.ExportECPrivateKeyPem();
            });
            signingKeys = [ParseSigningKey(pem, "the generated key in " + directory)];
        }

        return new AuthKeys(signingKeys, secret);
    }

    private static byte[] DecodeSecret(string value)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            throw new StartupConfigurationException("Auth__Secret", "is not base64; generate one with `openssl rand -base64 48`.");
        }

        if (bytes.Length < MinimumSecretBytes || bytes.Distinct().Count() < 8)
        {
            throw new StartupConfigurationException("Auth__Secret", $"is too weak: use {MinimumSecretBytes}+ random bytes (`openssl rand -base64 48`).");
        }

        return bytes;
    }

    private static AsymmetricSecurityKey LoadSigningKey(string value, string setting, string contentRoot)
    {
        var pem = value.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal)
            ? value
            : File.Exists(Path.GetFullPath(value, contentRoot))
                ? File.ReadAllText(Path.GetFullPath(value, contentRoot))
                : throw new StartupConfigurationException(setting, "is neither a PEM private key nor the path of an existing file.");
        return ParseSigningKey(pem, setting);
    }

    private static AsymmetricSecurityKey ParseSigningKey(string pem, string setting)
    {
        if (pem.Contains("BEGIN EC PRIVATE KEY", StringComparison.Ordinal) || IsEcPkcs8(pem))
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            if (ec.KeySize != 256)
            {
                throw new StartupConfigurationException(setting, "is an EC key on another curve than P-256; ES256 needs P-256.");
            }

            return WithKeyId(new ECDsaSecurityKey(ec));
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException)
        {
            throw new StartupConfigurationException(setting, "holds no EC or RSA private key in PEM.");
        }

        return rsa.KeySize < MinimumRsaBits
            ? throw new StartupConfigurationException(setting, $"is an RSA key of {rsa.KeySize} bits; use {MinimumRsaBits} or more.")
            : WithKeyId(new RsaSecurityKey(rsa));
    }

    private static bool IsEcPkcs8(string pem)
    {
        using var probe = ECDsa.Create();
        try
        {
            probe.ImportFromPem(pem);
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The key id is the RFC 7638 thumbprint, so every process names the same key the same way.</summary>
    private static AsymmetricSecurityKey WithKeyId(AsymmetricSecurityKey key)
    {
        key.KeyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromSecurityKey(key).ComputeJwkThumbprint())[..16];
        return key;
    }
}
