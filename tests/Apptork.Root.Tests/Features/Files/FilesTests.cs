using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Apptork.Root.Features.Files;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Features.Files.FileUploads;
using FileView = Apptork.Root.Tests.Features.Files.FileUploads.FileView;

namespace Apptork.Root.Tests.Features.Files;

/// <summary>Uploads and downloads by signed URL, on the embedded shape's local folder and on an S3 API server.</summary>
public sealed class FilesTests(PostgresServer postgres, S3Server s3)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Local storage on SQLite (the embedded shape), S3 on PostgreSQL (the production shape).</summary>
    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_presigned_upload_is_verified_and_downloads_byte_for_byte_by_its_owner_only(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("uploader@example.com");
        var bytes = RandomNumberGenerator.GetBytes(200_000);

        var upload = await SignAsync(auth, owner.AccessToken, "holiday photo.png", "image/png", bytes.Length);
        upload.UploadMethod.ShouldBe("PUT");
        upload.File.Status.ShouldBe("pending");
        using (var raw = new HttpClient())
        {
            using var put = await PutAsync(raw, upload, bytes, "image/png");
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        using var completed = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", owner.AccessToken);
        completed.StatusCode.ShouldBe(HttpStatusCode.OK, await completed.Content.ReadAsStringAsync(Cancel));
        var file = (await completed.Content.ReadFromJsonAsync<FileView>(TestJson.Options, Cancel))!;
        (file.Status, file.Size, file.ContentType, file.Filename).ShouldBe(("ready", 200_000L, "image/png", "holiday photo.png"));

        using var fetched = await auth.GetAsync($"/api/v1/files/{upload.Id}", owner.AccessToken);
        var again = (await fetched.Content.ReadFromJsonAsync<FileView>(TestJson.Options, Cancel))!;
        using (var raw = new HttpClient())
        {
            (await raw.GetByteArrayAsync(again.DownloadUrl, Cancel)).ShouldBe(bytes);
        }

        var stranger = await auth.SignInAsync("stranger@example.com");
        using (var foreign = await auth.GetAsync($"/api/v1/files/{upload.Id}", stranger.AccessToken))
        {
            await ErrorAssert.SingleAsync(foreign, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        using var foreignComplete = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", stranger.AccessToken);
        await ErrorAssert.SingleAsync(foreignComplete, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task What_arrives_must_be_what_was_signed_for(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var user = await auth.SignInAsync("careless@example.com");
        var upload = await SignAsync(auth, user.AccessToken, "notes.txt", "text/plain", 10);

        using (var early = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", user.AccessToken))
        {
            await ErrorAssert.SingleAsync(early, HttpStatusCode.Conflict, "client_error", "upload_incomplete");
        }

        using var raw = new HttpClient();
        // Another content type than the signed one is refused by whoever checks the signature.
        using (var wrongType = await PutAsync(raw, upload, new byte[10], "image/png"))
        {
            wrongType.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        // A tampered URL is refused too.
        var url = upload.UploadUrl.ToString();
        var flipped = url.Length - 5;
        var tampered = upload with { UploadUrl = new Uri($"{url[..flipped]}{(url[flipped] == '0' ? '1' : '0')}{url[(flipped + 1)..]}") };
        using (var forged = await PutAsync(raw, tampered, new byte[10], "text/plain"))
        {
            forged.StatusCode.ShouldBeOneOf(HttpStatusCode.Forbidden, HttpStatusCode.NotFound);
        }

        using (var tooMany = await PutAsync(raw, upload, new byte[11], "text/plain"))
        {
            tooMany.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var mismatch = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", user.AccessToken))
        {
            await ErrorAssert.SingleAsync(mismatch, (HttpStatusCode)422, "client_error", "upload_mismatch", "size");
        }

        // The wrong bytes were removed; the right ones, to the same URL, complete the upload.
        using (var right = await PutAsync(raw, upload, new byte[10], "text/plain"))
        {
            right.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var completed = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", user.AccessToken);
        completed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Types_and_sizes_outside_the_limits_are_refused_when_signing()
    {
        await using var app = await StartAsync(DatabaseShape.Sqlite, ("Storage:MaxUploadBytes", "1000"));
        var auth = new AuthClient(app, "fr");
        var user = await auth.SignInAsync("limits@example.com");
        using (var type = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", user.AccessToken, new { filename = "run.exe", content_type = "application/x-msdownload", size = 10 }))
        {
            await ErrorAssert.SingleAsync(type, HttpStatusCode.BadRequest, "validation_error", "unsupported_file_type", "content_type");
        }

        using (var size = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", user.AccessToken, new { filename = "big.png", content_type = "image/png", size = 1001 }))
        {
            var error = await ErrorAssert.SingleAsync(size, HttpStatusCode.BadRequest, "validation_error", "file_too_large", "size");
            error.Detail.ShouldBe("Assurez-vous que le fichier ne dépasse pas 1000 octets.");
        }

        using var missing = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", user.AccessToken, new { filename = "x.png", content_type = "image/png" });
        await ErrorAssert.SingleAsync(missing, HttpStatusCode.BadRequest, "validation_error", "required", "size");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Owners_list_their_own_files_newest_first_page_by_page_even_when_created_at_the_same_instant(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("lister@example.com");
        var stranger = await auth.SignInAsync("not.mine@example.com");
        var uploaded = new List<Guid>();
        for (var number = 1; number <= 3; number++)
        {
            uploaded.Add((await SignAsync(auth, owner.AccessToken, $"upload-{number}.txt", "text/plain", number)).Id);
        }

        var foreign = (await SignAsync(auth, stranger.AccessToken, "theirs.txt", "text/plain", 5)).Id;
        // Random ids sharing one creation time: only the id can order them, and no page may repeat or skip one.
        var instant = DateTimeOffset.UtcNow.AddHours(-1);
        var twins = Enumerable.Range(1, 4).Select(_ => Guid.NewGuid()).ToList();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            db.Files.AddRange(twins.Select((id, index) => new StoredFile
            {
                Id = id, UserId = owner.User.Id, Filename = $"twin-{index}.txt", ContentType = "text/plain", Size = 1, Status = StoredFileStatus.Ready,
                StorageKey = StoredFile.KeyFor(owner.User.Id, id), CreatedAt = instant, CompletedAt = instant,
            }));
            await db.SaveChangesAsync(Cancel);
        }

        var seen = new List<FileView>();
        var pageSizes = new List<int>();
        string? cursor = null;
        do
        {
            using var response = await auth.GetAsync($"/api/v1/files?limit=2{(cursor is null ? string.Empty : $"&cursor={cursor}")}", owner.AccessToken);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            var page = (await response.Content.ReadFromJsonAsync<FilePage>(TestJson.Options, Cancel))!;
            pageSizes.Add(page.Results.Count);
            seen.AddRange(page.Results);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        pageSizes.ShouldBe([2, 2, 2, 1]);
        seen.Take(3).Select(file => file.Id).ShouldBe(Enumerable.Reverse(uploaded));
        seen.Skip(3).Select(file => file.Id).ShouldBe(twins, ignoreOrder: true);
        seen.Select(file => file.CreatedAt).ShouldBeInOrder(SortDirection.Descending);
        seen.ShouldNotContain(file => file.Id == foreign);
        seen.ShouldAllBe(file => file.DownloadUrl == null);

        using (var garbage = await auth.GetAsync("/api/v1/files?cursor=bm90LWEtY3Vyc29y", owner.AccessToken))
        {
            await ErrorAssert.SingleAsync(garbage, HttpStatusCode.BadRequest, "validation_error", "invalid_cursor", "cursor");
        }

        // A well-formed cursor of another list (the ledger's kind) does not page this one.
        using var foreignKind = await auth.GetAsync($"/api/v1/files?cursor={Convert.ToBase64String("k1:42"u8.ToArray()).TrimEnd('=')}", owner.AccessToken);
        await ErrorAssert.SingleAsync(foreignKind, HttpStatusCode.BadRequest, "validation_error", "invalid_cursor", "cursor");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Deleting_a_file_removes_its_row_and_its_bytes_once_and_only_for_its_owner(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("tidy@example.com");
        var stranger = await auth.SignInAsync("meddler@example.com");
        var id = await UploadAsync(auth, owner.AccessToken, "old.png", "image/png", RandomNumberGenerator.GetBytes(1000));
        var key = StoredFile.KeyFor(owner.User.Id, id);
        var storage = app.Services.GetRequiredService<IFileStorage>();
        (await storage.HeadAsync(key, Cancel)).ShouldNotBeNull();
        using (var fetched = await auth.GetAsync($"/api/v1/files/{id}", owner.AccessToken))
        {
            fetched.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var foreign = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/files/{id}", stranger.AccessToken))
        {
            await ErrorAssert.SingleAsync(foreign, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        (await storage.HeadAsync(key, Cancel)).ShouldNotBeNull();

        using (var deleted = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/files/{id}", owner.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await storage.HeadAsync(key, Cancel)).ShouldBeNull();
        using (var gone = await auth.GetAsync($"/api/v1/files/{id}", owner.AccessToken))
        {
            await ErrorAssert.SingleAsync(gone, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        using (var again = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/files/{id}", owner.AccessToken))
        {
            await ErrorAssert.SingleAsync(again, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        using var list = await auth.GetAsync("/api/v1/files", owner.AccessToken);
        (await list.Content.ReadFromJsonAsync<FilePage>(TestJson.Options, Cancel))!.Results.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_object_storage_failed_to_remove_is_logged_and_removed_by_a_job()
    {
        var folder = Directory.CreateTempSubdirectory("apptork-files-").FullName;
        var failures = new FailingDeletes();
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?> { ["Storage:LocalPath"] = folder },
            new RootApp.TestExtensions(Services: services => services.AddSingleton<IFileStorage>(provider =>
                failures.Wrap(ActivatorUtilities.CreateInstance<LocalFileStorage>(provider)))));
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("unlucky@example.com");
        var id = Guid.NewGuid();
        var key = StoredFile.KeyFor(owner.User.Id, id);
        var storage = app.Services.GetRequiredService<IFileStorage>();
        // Written as the server writes its own files: the wrapped storage serves no signed URLs.
        await storage.PutAsync(key, new MemoryStream([1, 2, 3]), "text/plain", Cancel);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            db.Files.Add(new StoredFile
            {
                Id = id, UserId = owner.User.Id, Filename = "stuck.txt", ContentType = "text/plain", Size = 3, Status = StoredFileStatus.Ready,
                StorageKey = key, CreatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync(Cancel);
        }

        using (var deleted = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/files/{id}", owner.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        app.Logs.Entries.ShouldContain(entry => entry.Level == LogLevel.Warning && entry.Message.Contains(key, StringComparison.Ordinal));
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (await storage.HeadAsync(key, Cancel) is not null && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(250, Cancel);
        }

        (await storage.HeadAsync(key, Cancel)).ShouldBeNull();
        failures.Count.ShouldBe(2);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<RootDbContext>().Files.AnyAsync(file => file.Id == id, Cancel)).ShouldBeFalse();
        }
    }

    private async Task<RootApp> StartAsync(DatabaseShape shape, params (string Key, string Value)[] extra)
    {
        var settings = shape == DatabaseShape.Postgres ? new Dictionary<string, string?>(s3.Settings) : new Dictionary<string, string?>
        {
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-files-").FullName,
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return await RootApp.StartAsync(TestDatabases.For(postgres), shape, settings);
    }

    private sealed record FilePage(List<FileView> Results, string? NextCursor);

    /// <summary>Storage whose first deletion fails, as an unreachable bucket's would.</summary>
    private sealed class FailingDeletes
    {
        private int count;

        public int Count => count;

        public IFileStorage Wrap(IFileStorage inner) => new Storage(inner, this);

        private sealed class Storage(IFileStorage inner, FailingDeletes owner) : IFileStorage
        {
            public Task<SignedUrl> SignUploadAsync(string key, string contentType, CancellationToken cancellationToken) =>
                inner.SignUploadAsync(key, contentType, cancellationToken);

            public Task<SignedUrl> SignDownloadAsync(string key, string downloadName, string contentType, CancellationToken cancellationToken) =>
                inner.SignDownloadAsync(key, downloadName, contentType, cancellationToken);

            public Task<StoredObject?> HeadAsync(string key, CancellationToken cancellationToken) => inner.HeadAsync(key, cancellationToken);

            public Task PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken) =>
                inner.PutAsync(key, content, contentType, cancellationToken);

            public Task<bool> MoveAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken) =>
                inner.MoveAsync(sourceKey, destinationKey, cancellationToken);

            public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
                Interlocked.Increment(ref owner.count) == 1 ? throw new IOException("The storage is unreachable.") : inner.DeleteAsync(key, cancellationToken);
        }
    }
}
