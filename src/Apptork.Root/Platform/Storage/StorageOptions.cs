using System.ComponentModel.DataAnnotations;
using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Storage;

public enum StorageProvider
{
    /// <summary>A folder on this machine, behind URLs the application signs and serves itself (the embedded shape).</summary>
    Local,
    /// <summary>Any S3 API: AWS S3, MinIO, Cloudflare R2; presigned URLs go straight to it.</summary>
    S3,
}

/// <summary>
/// How request checksums are sent to S3. AWSSDK.S3 4 adds trailing checksums to every upload by default, which AWS
/// accepts and several S3-compatible servers refuse; <c>WhenRequired</c> sends them only where the API demands one.
/// </summary>
public enum StorageChecksumMode
{
    WhenSupported,
    WhenRequired,
}

/// <summary>The <c>Storage__*</c> settings; S3 credentials come from the standard <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Unset: <see cref="StorageProvider.Local"/> in the embedded shape; the production shape requires a choice.</summary>
    public StorageProvider? Provider { get; set; }

    /// <summary>The Local provider's folder; relative paths are taken from the working directory.</summary>
    public string LocalPath { get; set; } = "data/files";

    public string? Bucket { get; set; }

    /// <summary>An S3-compatible server's URL (<c>http://minio:9000</c>); unset for AWS itself.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Bucket in the path (<c>host/bucket/key</c>) rather than the host name: MinIO and most compatible servers want it.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>The region requests are signed for; <c>AWS_REGION</c> when unset, else us-east-1.</summary>
    public string? Region { get; set; }

    public StorageChecksumMode ChecksumMode { get; set; } = StorageChecksumMode.WhenSupported;

    /// <summary>The largest upload a client may ask to sign.</summary>
    [Range(1, 5L * 1024 * 1024 * 1024)]
    public long MaxUploadBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Media types clients may upload; anything else is refused when the upload is signed.</summary>
    public IList<string> AllowedContentTypes { get; } = [];

    /// <summary>The default when <see cref="AllowedContentTypes"/> is not set.</summary>
    public static readonly IReadOnlyList<string> DefaultContentTypes = ["image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf", "text/plain"];

    public IReadOnlyList<string> ContentTypes => AllowedContentTypes.Count > 0 ? [.. AllowedContentTypes] : DefaultContentTypes;

    /// <summary>How long signed upload and download URLs work.</summary>
    [Range(10, 7 * 24 * 3600)]
    public int SignedUrlSeconds { get; set; } = 900;

    /// <summary><c>Storage__QuotaBytes__&lt;role&gt;=104857600</c>: overrides of <see cref="DefaultQuotaBytes"/>.</summary>
    public Dictionary<string, long> QuotaBytes { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The bytes each role may hold, pending uploads included.</summary>
    public static readonly IReadOnlyDictionary<string, long> DefaultQuotaBytes = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase)
    {
        ["free"] = 100L * 1024 * 1024, ["premium"] = 5L * 1024 * 1024 * 1024, ["staff"] = 50L * 1024 * 1024 * 1024,
    };

    /// <summary>A role with no quota of its own gets the <c>free</c> one, so a role added later is never unlimited by omission.</summary>
    public long QuotaFor(string role) =>
        QuotaBytes.TryGetValue(role, out var quota) || DefaultQuotaBytes.TryGetValue(role, out quota) ? quota
        : QuotaBytes.TryGetValue("free", out quota) ? quota
        : DefaultQuotaBytes["free"];
}

/// <summary>Refuses at start a storage that could only fail at a user's first upload.</summary>
public sealed class StorageSettingsValidator(RuntimeShape shape) : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (options.Provider is null && shape.IsProduction)
        {
            // A silent default to the local disk would keep each upload on whichever process received it.
            failures.Add("Storage__Provider is not set, and the production shape needs a choice: Storage__Provider=S3 with Storage__Bucket "
                + "(files shared by every process), or Storage__Provider=Local (files on this host's disk; a single host only).");
        }

        if (options.Provider == StorageProvider.S3 && string.IsNullOrWhiteSpace(options.Bucket))
        {
            failures.Add("Storage__Bucket is required when Storage__Provider=S3.");
        }

        if (options.ServiceUrl is { Length: > 0 } serviceUrl
            && (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"Storage__ServiceUrl is '{serviceUrl}', not an absolute http(s) URL.");
        }

        failures.AddRange(options.QuotaBytes.Where(quota => quota.Value < 0)
            .Select(quota => $"Storage__QuotaBytes__{quota.Key} is {quota.Value}; a quota is a number of bytes, 0 or more."));

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
