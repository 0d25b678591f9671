using System.Net.Http.Headers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Storage;

/// <summary>
/// A folder, with signed URLs the application serves itself (<c>/files/local/{token}</c>) so clients use the same
/// presigned-URL flow as with S3. A token is the operation, key and content type protected by ASP.NET Core Data
/// Protection with an expiry: it cannot be forged, altered or used after it expires, and its keys are shared by every
/// process through the database.
/// </summary>
public sealed class LocalFileStorage(IOptions<StorageOptions> options, IDataProtectionProvider protection, PublicUrls urls, TimeProvider time, IHostEnvironment environment)
    : IFileStorage
{
    public const string RoutePrefix = "/files/local";
    private const string Purpose = "apptork-root/local-file-url";

    private readonly ExpiringTokens tokens = new(protection, Purpose);

    private string Root => Path.GetFullPath(options.Value.LocalPath, environment.ContentRootPath);

    public Task<SignedUrl> SignUploadAsync(string key, string contentType, CancellationToken cancellationToken) =>
        Task.FromResult(Sign("PUT", key, contentType, new Dictionary<string, string> { ["Content-Type"] = contentType }));

    public Task<SignedUrl> SignDownloadAsync(string key, string downloadName, string contentType, CancellationToken cancellationToken) =>
        Task.FromResult(Sign("GET", key, downloadName, new Dictionary<string, string>()));

    public Task<StoredObject?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? new StoredObject(file.Length, ReadContentType(file.FullName)) : null);
    }

    public async Task PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written beside, then moved: a reader never sees half a file.
        var partial = $"{path}.{Guid.NewGuid():N}.partial";
        await using (var file = File.Create(partial))
        {
            await content.CopyToAsync(file, cancellationToken);
        }

        await File.WriteAllTextAsync(ContentTypePath(path), contentType, cancellationToken);
        File.Move(partial, path, overwrite: true);
    }

    public Task<bool> MoveAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken)
    {
        var source = PathOf(sourceKey);
        var destination = PathOf(destinationKey);
        if (!File.Exists(source))
        {
            return Task.FromResult(false);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        if (File.Exists(ContentTypePath(source)))
        {
            File.Move(ContentTypePath(source), ContentTypePath(destination), overwrite: true);
        }

        try
        {
            File.Move(source, destination, overwrite: true);
        }
        catch (FileNotFoundException)
        {
            // Moved meanwhile by a concurrent call: as if nothing had been there.
            return Task.FromResult(false);
        }

        return Task.FromResult(true);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        File.Delete(path);
        File.Delete(ContentTypePath(path));
        return Task.CompletedTask;
    }

    public static string Attachment(string downloadName) =>
        new ContentDispositionHeaderValue("attachment") { FileNameStar = downloadName }.ToString();

    private SignedUrl Sign(string method, string key, string detail, IReadOnlyDictionary<string, string> headers)
    {
        var expires = time.GetUtcNow() + TimeSpan.FromSeconds(options.Value.SignedUrlSeconds);
        var token = tokens.Issue($"{method}\n{key}\n{detail}", expires);
        return new SignedUrl(urls.Absolute($"{RoutePrefix}/{token}"), method, headers, expires);
    }

    /// <summary>The key and detail a valid, unexpired token for this method carries; anything else is 403.</summary>
    internal (string Key, string Detail) Open(string token, string method) =>
        tokens.Read(token)?.Split('\n') is [var signedMethod, var key, var detail] && signedMethod == method
            ? (key, detail)
            : throw ErrorCatalog.PermissionDenied.ToException();

    /// <summary>Keys are ours (<c>users/{id}/{id}</c>), never a client's file name; still, nothing may leave the folder.</summary>
    internal string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(Root, key));
        return path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"The storage key '{key}' leaves the storage folder.", nameof(key));
    }

    private static string ContentTypePath(string path) => $"{path}.content-type";

    internal static string? ReadContentType(string path) => File.Exists(ContentTypePath(path)) ? File.ReadAllText(ContentTypePath(path)) : null;
}

/// <summary>The Local provider's signed URLs: a PUT stores the body (up to the upload limit), a GET serves the file.</summary>
public static class LocalFileUrls
{
    public static IEndpointRouteBuilder MapLocalFileUrls(this IEndpointRouteBuilder app)
    {
        var urls = app.MapGroup(LocalFileStorage.RoutePrefix).ExcludeFromDescription();
        urls.MapPut("/{token}", async (string token, HttpContext context, IFileStorage storage, IOptions<StorageOptions> settings, CancellationToken cancellationToken) =>
        {
            var local = Local(storage);
            var (key, contentType) = local.Open(token, "PUT");
            if (!string.Equals(context.Request.ContentType, contentType, StringComparison.OrdinalIgnoreCase))
            {
                throw ErrorCatalog.PermissionDenied.ToException();
            }

            // The upload limit instead of the API's body limit; the size the client declared is checked at completion.
            context.Features.GetRequiredFeature<IHttpMaxRequestBodySizeFeature>().MaxRequestBodySize = settings.Value.MaxUploadBytes;
            await local.PutAsync(key, context.Request.Body, contentType, cancellationToken);
            return Results.Ok();
        });
        urls.MapGet("/{token}", (string token, HttpContext context, IFileStorage storage) =>
        {
            var local = Local(storage);
            var (key, downloadName) = local.Open(token, "GET");
            var path = local.PathOf(key);
            // Served as the verified type, never as what a browser guesses from the bytes (HTML in a "text/plain" file).
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return File.Exists(path)
                ? Results.File(path, LocalFileStorage.ReadContentType(path) ?? "application/octet-stream", downloadName)
                : throw ErrorCatalog.NotFound.ToException();
        });
        return app;
    }

    private static LocalFileStorage Local(IFileStorage storage) =>
        storage as LocalFileStorage ?? throw ErrorCatalog.NotFound.ToException();
}
