using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Redis;

/// <summary>
/// Every key this application writes to Redis. What identifies a caller (IP addresses, user ids, email addresses, their
/// Idempotency-Keys) appears only as a digest: a Redis dump or MONITOR then shows no personal data, and every key has the
/// same short length whatever the caller sent.
/// </summary>
public sealed class RedisKeys(IOptions<RedisOptions> redis)
{
    private readonly string prefix = redis.Value.KeyPrefix;

    /// <summary><c>{prefix}{name}:{digest of partition}</c>.</summary>
    public string Named(string name, string partition) => $"{prefix}{name}:{Digest(partition)}";

    private static string Digest(string partition)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(partition), hash);
        return Base64Url.EncodeToString(hash[..16]);
    }
}
