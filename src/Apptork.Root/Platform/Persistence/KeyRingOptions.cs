using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apptork.Root.Platform.Configuration;

namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// The <c>DataProtection__*</c> settings: how the Data Protection key ring, kept in the database so every process
/// shares it, is protected there. Unset, its keys are stored as they are, and the database is as secret as they are.
/// </summary>
public sealed class KeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>
    /// <c>DataProtection__CertificatePath</c>: a PKCS#12 file (<c>.pfx</c>) whose certificate, with its private key,
    /// encrypts every key written from then on; every process needs it to read them. Relative to the content root.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary><c>DataProtection__CertificatePassword</c>: the file's password, if it has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The certificate to protect keys with; null when none is configured.</summary>
    public X509Certificate2? LoadCertificate(string contentRoot)
    {
        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            return null;
        }

        var path = Path.GetFullPath(CertificatePath, contentRoot);
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, CertificatePassword);
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new StartupConfigurationException(
                "DataProtection__CertificatePath", $"is '{path}', which could not be read as a PKCS#12 (.pfx) file with DataProtection__CertificatePassword: {exception.Message}");
        }

        return certificate.HasPrivateKey
            ? certificate
            : throw new StartupConfigurationException("DataProtection__CertificatePath", $"is '{path}', whose certificate has no private key: keys it encrypts could not be read back.");
    }
}
