using System.Runtime.Versioning;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Persistence;

/// <summary>The embedded shape's data folder holds every account and the Data Protection key ring: only its user may read it.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class PrivateFilesTests
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_fresh_embedded_start_makes_its_folders_and_databases_readable_by_its_own_user_only()
    {
        var data = Path.Combine(Directory.CreateTempSubdirectory("apptork-private-").FullName, "data");
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, $"Data Source={Path.Combine(data, "apptork-root.db")}",
            new Dictionary<string, string?>
            {
                ["Auth:KeyDirectory"] = Path.Combine(data, "keys"),
                ["Storage:LocalPath"] = Path.Combine(data, "files"),
            });
        await new AuthClient(app).SignInAsync("private.files@example.com");
        await app.Services.GetRequiredService<IFileStorage>().PutAsync("uploads/note.txt", new MemoryStream("private"u8.ToArray()), "text/plain", Cancel);

        // The write-ahead log and its index are made by SQLite after the start, while the application runs.
        var databases = Directory.GetFiles(data).Select(Path.GetFileName).ToList();
        databases.ShouldBeSubsetOf(["apptork-root.db", "apptork-root.db-wal", "apptork-root.db-shm", "apptork-root-jobs.db", "apptork-root-jobs.db-wal", "apptork-root-jobs.db-shm", "apptork-root-health-path.txt"]);
        databases.ShouldContain("apptork-root.db-wal");
        databases.ShouldContain("apptork-root.db-shm");
        databases.ShouldContain("apptork-root-jobs.db");
        // The health page's generated path is a secret too.
        databases.ShouldContain("apptork-root-health-path.txt");
        foreach (var file in Directory.GetFiles(data).Concat(Directory.GetFiles(Path.Combine(data, "keys"))))
        {
            File.GetUnixFileMode(file).ShouldBe(OwnerOnlyFile, file);
        }

        string[] folders = [data, Path.Combine(data, "keys"), Path.Combine(data, "files"), Path.Combine(data, "files", "uploads")];
        foreach (var folder in folders)
        {
            File.GetUnixFileMode(folder).ShouldBe(OwnerOnlyFolder, folder);
        }
    }
}
