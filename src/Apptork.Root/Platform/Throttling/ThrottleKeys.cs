using System.Collections.Concurrent;
using Apptork.Root.Platform.Redis;

namespace Apptork.Root.Platform.Throttling;

/// <summary>The throttle store's keys: one per scope, role and partition (<see cref="RedisKeys"/> keeps partitions private).</summary>
public sealed class ThrottleKeys(RedisKeys keys)
{
    // A busy partition is hit on every request: its key's digest is worked out once, not per request. The memo is emptied
    // whole when full, so its memory stays bounded however many clients come and go.
    internal const int Remembered = 10_000;

    private readonly ConcurrentDictionary<(string Scope, string Role, string Partition), string> known = new();
    private int count;

    public string For(string scope, string role, string partition)
    {
        if (known.TryGetValue((scope, role, partition), out var key))
        {
            return key;
        }

        if (Interlocked.Increment(ref count) > Remembered)
        {
            known.Clear();
            Interlocked.Exchange(ref count, 1);
        }

        key = keys.Named($"throttle:{scope}:{role}", partition);
        known.TryAdd((scope, role, partition), key);
        return key;
    }
}
