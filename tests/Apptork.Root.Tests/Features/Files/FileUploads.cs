using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Files;

/// <summary>The upload flow as a client runs it: sign, PUT the bytes to the signed URL, complete.</summary>
public static class FileUploads
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A ready file of the user's holding <paramref name="bytes"/>.</summary>
    public static async Task<Guid> UploadAsync(AuthClient auth, string token, string filename, string contentType, byte[] bytes)
    {
        var upload = await SignAsync(auth, token, filename, contentType, bytes.Length);
        using (var raw = new HttpClient())
        {
            using var put = await PutAsync(raw, upload, bytes, contentType);
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
        }

        using var completed = await auth.SendAsync(HttpMethod.Post, $"/api/v1/files/{upload.Id}/complete", token);
        completed.StatusCode.ShouldBe(HttpStatusCode.OK, await completed.Content.ReadAsStringAsync(Cancel));
        return upload.Id;
    }

    public static async Task<Upload> SignAsync(AuthClient auth, string token, string filename, string contentType, long size)
    {
        using var response = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", token, new { filename, content_type = contentType, size });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<Upload>(TestJson.Options, Cancel))!;
    }

    /// <summary>The upload as any HTTP client makes it: the signed URL, the signed headers, no credentials of ours.</summary>
    public static Task<HttpResponseMessage> PutAsync(HttpClient raw, Upload upload, byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return raw.PutAsync(upload.UploadUrl, content, Cancel);
    }

    public sealed record Upload(Guid Id, Uri UploadUrl, string UploadMethod, Dictionary<string, string> UploadHeaders, FileView File);

    public sealed record FileView(Guid Id, string Filename, string ContentType, long Size, string Status, DateTimeOffset CreatedAt, Uri? DownloadUrl);
}
