using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

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

    private static async Task<Upload> SignAsync(AuthClient auth, string token, string filename, string contentType, long size)
    {
        using var response = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", token, new { filename, content_type = contentType, size });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<Upload>(TestJson.Options, Cancel))!;
    }

    /// <summary>The upload as any HTTP client makes it: the signed URL, the signed headers, no credentials of ours.</summary>
    private static Task<HttpResponseMessage> PutAsync(HttpClient raw, Upload upload, byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return raw.PutAsync(upload.UploadUrl, content, Cancel);
    }

    private sealed record Upload(Guid Id, Uri UploadUrl, string UploadMethod, Dictionary<string, string> UploadHeaders, FileView File);

    private sealed record FileView(Guid Id, string Filename, string ContentType, long Size, string Status, Uri? DownloadUrl);
}
