using Apptork.Root.Platform.Redis;

namespace Apptork.Root.Platform.Throttling;

/// <summary>The throttle store's keys: one per scope, role and partition (<see cref="RedisKeys"/> keeps partitions private).</summary>
public sealed class ThrottleKeys(RedisKeys keys)
{
    public string For(string scope, string role, string partition) => keys.Named($"throttle:{scope}:{role}", partition);
}
