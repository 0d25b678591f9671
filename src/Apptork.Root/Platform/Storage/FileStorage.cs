namespace Apptork.Root.Platform.Storage;

/// <summary>An object as the storage has it.</summary>
public sealed record StoredObject(long Size, string? ContentType);

/// <summary>A URL the client uses directly, with the headers it must send and until when it works.</summary>
public sealed record SignedUrl(Uri Url, string Method, IReadOnlyDictionary<string, string> Headers, DateTimeOffset ExpiresAt);

/// <summary>
/// Where files live: a local folder or an S3 bucket, chosen by <c>Storage__Provider</c>. Bytes never pass through the
/// API: clients upload and download with signed URLs, and the server checks what arrived.
/// </summary>
public interface IFileStorage
{
    /// <summary>A PUT the client may make once, with exactly this content type.</summary>
    Task<SignedUrl> SignUploadAsync(string key, string contentType, CancellationToken cancellationToken);

    /// <summary>A GET that downloads the object as an attachment named <paramref name="downloadName"/>, of the verified <paramref name="contentType"/>.</summary>
    Task<SignedUrl> SignDownloadAsync(string key, string downloadName, string contentType, CancellationToken cancellationToken);

    /// <summary>The object's size and type, or null when nothing is stored under the key.</summary>
    Task<StoredObject?> HeadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores bytes the server made itself (a generated image).</summary>
    Task PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the object to <paramref name="destinationKey"/>, replacing what is there, where no signed upload URL points;
    /// false when nothing is stored under <paramref name="sourceKey"/>.
    /// </summary>
    Task<bool> MoveAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
