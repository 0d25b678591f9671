using Microsoft.Extensions.Caching.Memory;
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
public sealed class RedisThrottleStore(IConnectionMultiplexer redis, TimeProvider time) : IThrottleStore, IDisposable
{
    // The key's TTL is the window (relative, so Redis's clock and ours need not agree) and only cleans up; the window's end
    // stored in the hash decides, on the callers' clock.
    private const string HitScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local batch = tonumber(ARGV[4])
        local state = redis.call('HMGET', KEYS[1], 'count', 'ends')
        local count = tonumber(state[1]) or 0
        local ends = tonumber(state[2])
        if ends == nil or ends <= now then
          count = 0
          ends = now + window
          redis.call('HSET', KEYS[1], 'count', 0, 'ends', ends)
          redis.call('PEXPIRE', KEYS[1], window)
        end
        local granted = 0
        if count < limit then
          granted = math.max(1, math.min(batch, math.floor((limit - count) / 16)))
          count = redis.call('HINCRBY', KEYS[1], 'count', granted)
        end
        return {granted, count, ends - now}
        """;

    /// <summary>
    /// A partition with far more hits left than a handful takes up to this many from Redis at once and spends them here
    /// without a round trip, so a busy client costs one Redis call per batch instead of one per request. Never more than a
    /// sixteenth of what is left is taken, and at least one: the grant is atomic, so a limit is never exceeded, and counting
    /// stays exact as the limit nears. When half a batch is spent the next is fetched in the background, so the busy
    /// client's requests do not wait for Redis (on a busy machine, a wait for a Redis process the scheduler has not run yet
    /// held all of them up). The price: at a window's end, other processes may be refused while this one still holds up
    /// to a batch and a half (each at most a sixteenth of what was left), which the window's end then forfeits.
    /// </summary>
    private const int MaxBatch = 512;

    private readonly MemoryCache leases = new(new MemoryCacheOptions());

    private static readonly RedisValue[] StateFields = ["count", "ends"];

    public ValueTask<ThrottleWindow> HitAsync(string key, Rate rate, CancellationToken cancellationToken)
    {
        var lease = leases.TryGetValue(key, out Lease? known) ? known! : NewLease(key, rate.Window);
        if (lease.TryTake(time.GetUtcNow().ToUnixTimeMilliseconds(), out var topUpDue) is not { } spent)
        {
            return RefillAsync(lease, key, rate, cancellationToken);
        }

        if (topUpDue)
        {
            _ = TopUpAsync(lease, key, rate);
        }

        return ValueTask.FromResult(spent);
    }

    private async ValueTask<ThrottleWindow> RefillAsync(Lease lease, string key, Rate rate, CancellationToken cancellationToken)
    {
        // One trip to Redis at a time per partition in this process: concurrent hits wait for its batch rather than
        // each fetching their own and being refused while hits sit unspent here.
        await lease.Refill.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (lease.TryTake(now, out _) is { } refilled)
            {
                return refilled;
            }

            var (granted, count, resetAfter) = await GrantAsync(key, rate, now);
            var kept = (int)Math.Max(0, granted - 1);
            lease.Add(now + resetAfter, count, kept);
            return new ThrottleWindow(granted > 0, count - kept, TimeSpan.FromMilliseconds(resetAfter));
        }
        finally
        {
            lease.Refill.Release();
        }
    }

    /// <summary>Fetches a busy partition's next batch while the current one lasts; skipped when a fetch is already on its way.</summary>
    private async Task TopUpAsync(Lease lease, string key, Rate rate)
    {
        if (!lease.Refill.Wait(0))
        {
            lease.TopUpEnded();
            return;
        }

        try
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var (granted, count, resetAfter) = await GrantAsync(key, rate, now);
            lease.Add(now + resetAfter, count, (int)granted);
        }
        catch (Exception)
        {
            // Only ahead of time: the hit that finds the lease empty fetches again, and meets (and reports) any outage itself.
        }
        finally
        {
            lease.TopUpEnded();
            lease.Refill.Release();
        }
    }

    /// <summary>Up to a batch of hits for this process, counted in Redis at once: how many, the count after them, and the time left in the window.</summary>
    private async Task<(long Granted, long Count, long ResetAfter)> GrantAsync(string key, Rate rate, long now)
    {
        RedisResult result;
        try
        {
            result = await redis.GetDatabase().ScriptEvaluateAsync(
                HitScript, [key], [now, (long)rate.Window.TotalMilliseconds, rate.Limit, MaxBatch]);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            throw new ThrottleStoreUnavailableException(exception);
        }

        var values = (RedisResult[])result!;
        return ((long)values[0], (long)values[1], (long)values[2]);
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

    public void Dispose() => leases.Dispose();

    // Apart from HitAsync so the factory's closure is allocated only when a partition is first seen, not on every hit.
    private Lease NewLease(string key, TimeSpan window) => leases.GetOrCreate(key, entry =>
    {
        entry.SlidingExpiration = window;
        return new Lease();
    })!;

    /// <summary>Hits Redis granted to this process and not yet spent, for one partition's current window.</summary>
    private sealed class Lease
    {
        private readonly Lock gate = new();
        private long endsAt;
        private long reservedCount;
        private int left;
        private int lastBatch;
        private bool toppingUp;

        public SemaphoreSlim Refill { get; } = new(1, 1);

        /// <summary>Adds granted hits; those of an earlier window are void once a later one's arrive.</summary>
        public void Add(long windowEndsAt, long countAfterGrant, int hits)
        {
            lock (gate)
            {
                var carried = windowEndsAt == endsAt ? left : 0;
                (endsAt, reservedCount, left, lastBatch) = (windowEndsAt, countAfterGrant, carried + hits, hits);
            }
        }

        /// <summary>
        /// Spends one hit when the window still holds one. <paramref name="topUpDue"/> asks the caller to fetch the next
        /// batch: half of a batch of more than one is spent and no fetch is on its way.
        /// </summary>
        public ThrottleWindow? TryTake(long now, out bool topUpDue)
        {
            lock (gate)
            {
                topUpDue = false;
                if (now >= endsAt || left == 0)
                {
                    return null;
                }

                left--;
                if (lastBatch > 1 && left <= lastBatch / 2 && !toppingUp)
                {
                    toppingUp = topUpDue = true;
                }

                return new ThrottleWindow(true, reservedCount - left, TimeSpan.FromMilliseconds(endsAt - now));
            }
        }

        public void TopUpEnded()
        {
            lock (gate)
            {
                toppingUp = false;
            }
        }
    }
}
