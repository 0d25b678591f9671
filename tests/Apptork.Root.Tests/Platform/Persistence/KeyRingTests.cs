using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Persistence;

/// <summary>The Data Protection key ring lives in the database; a configured certificate keeps its keys encrypted there.</summary>
public sealed class KeyRingTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_configured_certificate_encrypts_the_stored_keys_and_a_restarted_process_reads_them_back()
    {
        var folder = Directory.CreateTempSubdirectory("apptork-keyring-").FullName;
        var certificatePath = Path.Combine(folder, "data-protection.pfx");
        using (var rsa = RSA.Create(2048))
        {
            using var certificate = new CertificateRequest("CN=apptork-root data protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(certificatePath, certificate.Export(X509ContentType.Pfx, "pfx-password"), Cancel);
        }

        var connectionString = TestDatabases.CreateSqlite("keyring");
        var settings = new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = certificatePath,
            ["DataProtection:CertificatePassword"] = "pfx-password",
        };
        string protectedText;
        await using (var first = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString, settings))
        {
            protectedText = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-test").Protect("kept secret");
        }

        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync(Cancel);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT xml FROM data_protection_keys";
            var keyXml = (string)(await command.ExecuteScalarAsync(Cancel))!;
            keyXml.ShouldContain("EncryptedXmlDecryptor");
            keyXml.ShouldNotContain("<masterKey");
        }

        await using var restarted = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString, settings);
        restarted.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-test").Unprotect(protectedText).ShouldBe("kept secret");
    }
}
