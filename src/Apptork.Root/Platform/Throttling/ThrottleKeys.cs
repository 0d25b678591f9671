using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Platform.Redis;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// Store keys. Partitions (IP addresses, user ids, email addresses) appear only as a digest: a Redis dump or MONITOR then
/// shows no personal data, and every key has the same short length whatever the caller sent.
/// </summary>
public sealed class ThrottleKeys(IOptions<RedisOptions> redis)
{
    private readonly string prefix = redis.Value.KeyPrefix;

    public string For(string scope, string role, string partition) => $"{prefix}throttle:{scope}:{role}:{Digest(partition)}";

    /// <summary>A key outside the rate scopes, e.g. the checkout lock's counters.</summary>
    public string Named(string name, string partition) => $"{prefix}{name}:{Digest(partition)}";

    private static string Digest(string partition)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(partition), hash);
        return Base64Url.EncodeToString(hash[..16]);
    }
}
