using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Platform.Configuration;

/// <summary><c>Http__MaxRequestBodyBytes</c>: JSON bodies are small; files go straight to storage by signed URL.</summary>
public sealed class HttpLimitsOptions
{
    public const string Section = "Http";
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;
}
