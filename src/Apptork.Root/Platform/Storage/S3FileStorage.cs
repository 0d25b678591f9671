using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Storage;

/// <summary>An S3 bucket through AWSSDK.S3: presigned PUT and GET URLs, so file bytes go between the client and S3 only.</summary>
public sealed class S3FileStorage(IAmazonS3 s3, IOptions<StorageOptions> options, TimeProvider time) : IFileStorage
{
    private string Bucket => options.Value.Bucket!;

    private TimeSpan Lifetime => TimeSpan.FromSeconds(options.Value.SignedUrlSeconds);

    /// <summary>Presigned URLs default to https; an S3-compatible server on plain http (a local MinIO) gets http ones.</summary>
    private Protocol Protocol => options.Value.ServiceUrl is { } serviceUrl && serviceUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        ? Protocol.HTTP
        : Protocol.HTTPS;

    public async Task<SignedUrl> SignUploadAsync(string key, string contentType, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow() + Lifetime;
        // The content type is part of the signature: a PUT with another one is refused by S3 itself.
        var url = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = Bucket, Key = key, Verb = HttpVerb.PUT, ContentType = contentType, Expires = expires.UtcDateTime, Protocol = Protocol,
        });
        return new SignedUrl(new Uri(url), "PUT", new Dictionary<string, string> { ["Content-Type"] = contentType }, expires);
    }

    /// <summary>
    /// The type and disposition are response overrides in the signed URL: served as the verified type, as an attachment.
    /// S3 has no override for <c>X-Content-Type-Options</c>; a CDN in front of the bucket can add <c>nosniff</c>.
    /// </summary>
    public async Task<SignedUrl> SignDownloadAsync(string key, string downloadName, string contentType, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow() + Lifetime;
        var request = new GetPreSignedUrlRequest { BucketName = Bucket, Key = key, Verb = HttpVerb.GET, Expires = expires.UtcDateTime, Protocol = Protocol };
        request.ResponseHeaderOverrides.ContentDisposition = $"attachment; filename={AsciiToken(downloadName)}";
        request.ResponseHeaderOverrides.ContentType = contentType;
        return new SignedUrl(new Uri(await s3.GetPreSignedURLAsync(request)), "GET", new Dictionary<string, string>(), expires);
    }

    public async Task<StoredObject?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, cancellationToken);
            return new StoredObject(head.ContentLength, head.Headers.ContentType);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken) =>
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = content, ContentType = contentType }, cancellationToken);

    /// <summary>A copy inside the bucket, then the source's removal: S3 has no rename.</summary>
    public async Task<bool> MoveAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken)
    {
        try
        {
            await s3.CopyObjectAsync(
                new CopyObjectRequest { SourceBucket = Bucket, SourceKey = sourceKey, DestinationBucket = Bucket, DestinationKey = destinationKey }, cancellationToken);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }

        await DeleteAsync(sourceKey, cancellationToken);
        return true;
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);

    /// <summary>
    /// The download name as an RFC 6266 token (letters, digits, <c>.-_</c>): the override travels in the signed query
    /// string, where quotes and percent-encoded UTF-8 break the signature check of some S3-compatible servers (S3rver).
    /// The exact name is in the file's metadata.
    /// </summary>
    private static string AsciiToken(string name)
    {
        var token = new string(name.Select(character => char.IsAsciiLetterOrDigit(character) || character is '.' or '-' or '_' ? character : '_').ToArray());
        return token.Trim('.') is { Length: > 0 } trimmed ? trimmed : "download";
    }

    /// <summary>The client for the configured endpoint; credentials from the SDK's usual chain (AWS_ACCESS_KEY_ID, ...).</summary>
    public static IAmazonS3 CreateClient(StorageOptions options)
    {
        var region = options.Region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
        var checksum = options.ChecksumMode == StorageChecksumMode.WhenRequired;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = checksum ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = checksum ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
        };
        if (options.ServiceUrl is { Length: > 0 } serviceUrl)
        {
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        return new AmazonS3Client(config);
    }
}
