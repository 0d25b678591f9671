using System.Net;
using System.Net.Http.Json;
using System.Text;
using Apptork.Root.Features.Files;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Features.Files.FileUploads;
using FileView = Apptork.Root.Tests.Features.Files.FileUploads.FileView;

namespace Apptork.Root.Tests.Features.Files;

/// <summary>Quotas, the clean-up of abandoned uploads, immutable completed files and safe names: on local storage and on S3.</summary>
public sealed class FileHardeningTests(PostgresServer postgres, S3Server s3)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Local storage on SQLite (the embedded shape), S3 on PostgreSQL (the production shape).</summary>
    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Uploads_beyond_the_role_quota_are_refused_pending_ones_included(DatabaseShape shape)
    {
        await using var storage = await StartAsync(shape, ("Storage:QuotaBytes:free", "100"), ("Storage:QuotaBytes:premium", "1000"));
        var auth = new AuthClient(storage.App, "de");
        var user = await auth.SignInAsync("hoarder@example.com");
        await SignAsync(auth, user.AccessToken, "first.txt", "text/plain", 60);

        using (var refused = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", user.AccessToken, new { filename = "second.txt", content_type = "text/plain", size = 41 }))
        {
            var error = await ErrorAssert.SingleAsync(refused, HttpStatusCode.Conflict, "client_error", "storage_quota_exceeded");
            error.Detail.ShouldBe("Dieser Upload würde Ihr Speicherkontingent von 100 Bytes überschreiten (60 Bytes belegt); löschen Sie zuerst Dateien.");
        }

        await SignAsync(auth, user.AccessToken, "second.txt", "text/plain", 40);

        // Another role, another quota.
        await using (var scope = storage.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RootDbContext>().Users.Where(candidate => candidate.Id == user.User.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(candidate => candidate.Role, "premium"), Cancel);
        }

        await SignAsync(auth, user.AccessToken, "third.txt", "text/plain", 900);
        using var beyond = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", user.AccessToken, new { filename = "fourth.txt", content_type = "text/plain", size = 1 });
        await ErrorAssert.SingleAsync(beyond, HttpStatusCode.Conflict, "client_error", "storage_quota_exceeded");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Expired_pending_uploads_are_removed_row_and_object_by_a_recurring_job(DatabaseShape shape)
    {
        await using var storage = await StartAsync(shape);
        var auth = new AuthClient(storage.App);
        var user = await auth.SignInAsync("abandoner@example.com");
        var abandoned = await SignAsync(auth, user.AccessToken, "abandoned.txt", "text/plain", 5);
        var recent = await SignAsync(auth, user.AccessToken, "recent.txt", "text/plain", 5);
        using (var raw = new HttpClient())
        {
            foreach (var upload in new[] { abandoned, recent })
            {
                using var put = await PutAsync(raw, upload, "hello"u8.ToArray(), "text/plain");
                put.StatusCode.ShouldBe(HttpStatusCode.OK);
            }
        }

        (await storage.ObjectsOfAsync(user.User.Id, abandoned.Id)).ShouldNotBeEmpty();
        await using (var scope = storage.App.Services.CreateAsyncScope())
        {
            // Signed 16 minutes ago: its 15-minute URL, and the minute of grace, have passed.
            await scope.ServiceProvider.GetRequiredService<RootDbContext>().Files.Where(file => file.Id == abandoned.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(file => file.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-16).AddSeconds(-5)), Cancel);
        }

        await using (var scope = storage.App.Services.CreateAsyncScope())
        {
            var job = scope.ServiceProvider.GetServices<IRecurringJob>().SingleOrDefault(candidate => candidate.Id == "files-abandoned-uploads");
            job.ShouldNotBeNull("the clean-up is a registered recurring job");
            await job.RunAsync(Cancel);
        }

        await using (var scope = storage.App.Services.CreateAsyncScope())
        {
            var files = await scope.ServiceProvider.GetRequiredService<RootDbContext>().Files.Where(file => file.UserId == user.User.Id).Select(file => file.Id).ToListAsync(Cancel);
            files.ShouldBe([recent.Id]);
        }

        (await storage.ObjectsOfAsync(user.User.Id, abandoned.Id)).ShouldBeEmpty();
        (await storage.ObjectsOfAsync(user.User.Id, recent.Id)).ShouldNotBeEmpty();
        using var gone = await auth.GetAsync($"/api/v1/files/{abandoned.Id}", user.AccessToken);
        await ErrorAssert.SingleAsync(gone, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_put_to_the_upload_url_after_completion_cannot_change_what_downloads_serve(DatabaseShape shape)
    {
        await using var storage = await StartAsync(shape);
        var auth = new AuthClient(storage.App);
        var user = await auth.SignInAsync("verified@example.com");
        var upload = await SignAsync(auth, user.AccessToken, "note.txt", "text/plain", 5);
        using var raw = new HttpClient();
        using (var put = await PutAsync(raw, upload, "hello"u8.ToArray(), "text/plain"))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var completed = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", user.AccessToken))
        {
            completed.StatusCode.ShouldBe(HttpStatusCode.OK, await completed.Content.ReadAsStringAsync(Cancel));
        }

        var html = Encoding.UTF8.GetBytes($"<html><script>alert(1)</script>{new string('x', 5_200)}</html>");
        using (await PutAsync(raw, upload, html, "text/plain"))
        {
            // Whether the storage accepts it or not, downloads must not see it.
        }

        using var fetched = await auth.GetAsync($"/api/v1/files/{upload.Id}", user.AccessToken);
        var file = (await fetched.Content.ReadFromJsonAsync<FileView>(TestJson.Options, Cancel))!;
        file.Size.ShouldBe(5);
        (await raw.GetStringAsync(file.DownloadUrl, Cancel)).ShouldBe("hello");
    }

    [Fact]
    public async Task A_file_whose_row_goes_while_it_completes_is_not_found_and_leaves_no_object()
    {
        await using var storage = await StartAsync(DatabaseShape.Postgres);
        var auth = new AuthClient(storage.App);
        var user = await auth.SignInAsync("raced@example.com");
        var upload = await SignAsync(auth, user.AccessToken, "late.txt", "text/plain", 4);
        using (var raw = new HttpClient())
        using (var put = await PutAsync(raw, upload, "late"u8.ToArray(), "text/plain"))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // As if the clean-up job or a DELETE took the row between the completion's read and its write.
        await using (var scope = storage.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RootDbContext>().Database.ExecuteSqlRawAsync("""
                CREATE FUNCTION vanish_files() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
                CREATE TRIGGER vanish_files BEFORE UPDATE ON files FOR EACH ROW EXECUTE FUNCTION vanish_files();
                """, Cancel);
        }

        using var completed = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", user.AccessToken);
        await ErrorAssert.SingleAsync(completed, HttpStatusCode.NotFound, "client_error", "not_found");
        (await storage.ObjectsOfAsync(user.User.Id, upload.Id)).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Downloads_are_attachments_of_the_verified_type_and_not_sniffed(DatabaseShape shape)
    {
        await using var storage = await StartAsync(shape);
        var auth = new AuthClient(storage.App);
        var user = await auth.SignInAsync("sniffed@example.com");
        var html = "<html><script>alert(1)</script></html>"u8.ToArray();
        var id = await UploadAsync(auth, user.AccessToken, "page.txt", "text/plain", html);
        using var fetched = await auth.GetAsync($"/api/v1/files/{id}", user.AccessToken);
        var file = (await fetched.Content.ReadFromJsonAsync<FileView>(TestJson.Options, Cancel))!;

        using var raw = new HttpClient();
        using var download = await raw.GetAsync(file.DownloadUrl, Cancel);
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await download.Content.ReadAsByteArrayAsync(Cancel)).SequenceEqual(html).ShouldBeTrue();
        download.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        if (shape == DatabaseShape.Postgres)
        {
            // S3 has no override for X-Content-Type-Options; the type it serves is set by the signed URL, not by the upload.
            file.DownloadUrl!.Query.ShouldContain("response-content-type=text%2Fplain");
        }
        else
        {
            download.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        }
    }

    [Theory]
    [InlineData("invoice\u202Efdp.exe")]
    [InlineData("\u2066report\u2069.pdf")]
    [InlineData("left\u200Eto\u200Fright.txt")]
    [InlineData("bell\u0007.txt")]
    [InlineData("hidden\uFEFF.txt")]
    public async Task Names_with_control_or_direction_characters_are_refused_for_files_and_users(string name)
    {
        await using var storage = await StartAsync(DatabaseShape.Sqlite);
        var auth = new AuthClient(storage.App, "fr");
        var user = await auth.SignInAsync("trickster@example.com");
        using (var upload = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", user.AccessToken, new { filename = name, content_type = "text/plain", size = 5 }))
        {
            var error = await ErrorAssert.SingleAsync(upload, HttpStatusCode.BadRequest, "validation_error", "control_characters", "filename");
            error.Detail.ShouldBe("Retirez les caractères de contrôle et les caractères de mise en forme invisibles (comme les inversions du sens du texte).");
        }

        using (var renamed = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", user.AccessToken, new { display_name = name }))
        {
            await ErrorAssert.SingleAsync(renamed, HttpStatusCode.BadRequest, "validation_error", "control_characters", "display_name");
        }

        // Joiners stay: scripts and emoji sequences need them.
        using var family = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", user.AccessToken, new { display_name = "\U0001F468\u200D\U0001F469\u200D\U0001F467 \u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645" });
        family.StatusCode.ShouldBe(HttpStatusCode.OK, await family.Content.ReadAsStringAsync(Cancel));
    }

    private async Task<Storage> StartAsync(DatabaseShape shape, params (string Key, string Value)[] extra)
    {
        var folder = shape == DatabaseShape.Postgres ? null : Directory.CreateTempSubdirectory("apptork-files-").FullName;
        var settings = folder is null ? new Dictionary<string, string?>(s3.Settings) : new Dictionary<string, string?> { ["Storage:LocalPath"] = folder };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return new Storage(await RootApp.StartAsync(TestDatabases.For(postgres), shape, settings), folder);
    }

    /// <summary>The app, and a look at what its storage holds whatever the keys are named.</summary>
    private sealed record Storage(RootApp App, string? Folder) : IAsyncDisposable
    {
        /// <summary>The file's objects: anything under the local folder whose path names it, or its keys in the bucket.</summary>
        public async Task<IReadOnlyList<string>> ObjectsOfAsync(Guid userId, Guid fileId)
        {
            if (Folder is not null)
            {
                return Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories).Where(path => path.Contains(fileId.ToString("N"), StringComparison.Ordinal)).ToList();
            }

            var storage = App.Services.GetRequiredService<IFileStorage>();
            var found = new List<string>();
            foreach (var key in new[] { StoredFile.KeyFor(userId, fileId), $"uploads/{userId:N}/{fileId:N}" })
            {
                if (await storage.HeadAsync(key, Cancel) is not null)
                {
                    found.Add(key);
                }
            }

            return found;
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
