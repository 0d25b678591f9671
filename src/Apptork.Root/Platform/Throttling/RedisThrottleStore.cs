using StackExchange.Redis;

namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// The production store: one Lua script per hit, which Redis runs atomically, so racing hits from any number of processes
/// never count past a limit.
/// </summary>
/// <remarks>
/// Our own dozen lines rather than the RedisRateLimiting package: its windows are counted in whole seconds of each
/// caller's wall clock (a window lasts up to a second longer than configured, and Retry-After is off by as much), it takes
/// no <see cref="TimeProvider"/> (window expiry could only be tested by sleeping), and its in-process counterpart, the
/// framework's <c>FixedWindowRateLimiter</c>, counts differently. Here both stores share one algorithm and one clock.
/// Processes' clocks are assumed NTP-synchronised: a window's end is written by the process that opens it.
/// </remarks>
public sealed class RedisThrottleStore(IConnectionMultiplexer redis, TimeProvider time) : IThrottleStore
{
    // The key's TTL is the window (relative, so Redis's clock and ours need not agree) and only cleans up; the window's end
    // stored in the hash decides, on the callers' clock.
    private const string HitScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'count', 'ends')
        local count = tonumber(state[1]) or 0
        local ends = tonumber(state[2])
        if ends == nil or ends <= now then
          count = 0
          ends = now + window
          redis.call('HSET', KEYS[1], 'count', 0, 'ends', ends)
          redis.call('PEXPIRE', KEYS[1], window)
        end
        local counted = 0
        if count < limit then
          count = redis.call('HINCRBY', KEYS[1], 'count', 1)
          counted = 1
        end
        return {counted, count, ends - now}
        """;

    private static readonly RedisValue[] StateFields = ["count", "ends"];

    public async ValueTask<ThrottleWindow> HitAsync(string key, Rate rate, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        RedisResult result;
        try
        {
            result = await redis.GetDatabase().ScriptEvaluateAsync(
                HitScript, [key], [now, (long)rate.Window.TotalMilliseconds, rate.Limit]);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            throw new ThrottleStoreUnavailableException(exception);
        }

        var values = (RedisResult[])result!;
        return new ThrottleWindow((long)values[0] == 1, (long)values[1], TimeSpan.FromMilliseconds((long)values[2]));
    }

    public async ValueTask<ThrottleWindow> PeekAsync(string key, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        RedisValue[] state;
        try
        {
            state = await redis.GetDatabase().HashGetAsync(key, StateFields);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            throw new ThrottleStoreUnavailableException(exception);
        }

        return state[1].TryParse(out long endsAt) && endsAt > now && state[0].TryParse(out long count)
            ? new ThrottleWindow(false, count, TimeSpan.FromMilliseconds(endsAt - now))
            : new ThrottleWindow(false, 0, TimeSpan.Zero);
    }
}
