using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Platform.Redis;

/// <summary><c>Redis__KeyPrefix</c>: starts every key this application writes, so several deployments can share one Redis.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";
    public const string ConnectionStringName = "Redis";
    public const string ConnectionStringSetting = "ConnectionStrings__Redis";

    [Required]
    [RegularExpression("^[A-Za-z0-9:._-]{1,64}$", ErrorMessage = "use 1 to 64 letters, digits, ':', '.', '_' or '-'.")]
    public string KeyPrefix { get; set; } = "apptork:";
}
