using System.Collections.Concurrent;

namespace Apptork.Root.Platform.Throttling;

/// <summary>The embedded shape's store: windows in this process's memory, on the injected clock.</summary>
public sealed class InProcessThrottleStore(TimeProvider time) : IThrottleStore
{
    // Ended windows are dropped every this many hits, so memory follows the callers active within a window.
    private const int SweepEvery = 4096;

    private readonly ConcurrentDictionary<string, Window> windows = new(StringComparer.Ordinal);
    private long hits;

    public ValueTask<ThrottleWindow> HitAsync(string key, Rate rate, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (Interlocked.Increment(ref hits) % SweepEvery == 0)
        {
            Sweep(now);
        }

        while (true)
        {
            var window = windows.GetOrAdd(key, static _ => new Window());
            lock (window)
            {
                if (window.Removed)
                {
                    // The sweep took this window out of the table between our lookup and our lock: count in its successor.
                    continue;
                }

                if (window.EndsAt <= now)
                {
                    window.Count = 0;
                    window.EndsAt = now + (long)rate.Window.TotalMilliseconds;
                }

                var counted = window.Count < rate.Limit;
                if (counted)
                {
                    window.Count++;
                }

                return ValueTask.FromResult(new ThrottleWindow(counted, window.Count, TimeSpan.FromMilliseconds(window.EndsAt - now)));
            }
        }
    }

    public ValueTask<ThrottleWindow> PeekAsync(string key, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (windows.TryGetValue(key, out var window))
        {
            lock (window)
            {
                if (!window.Removed && window.EndsAt > now)
                {
                    return ValueTask.FromResult(new ThrottleWindow(false, window.Count, TimeSpan.FromMilliseconds(window.EndsAt - now)));
                }
            }
        }

        return ValueTask.FromResult(new ThrottleWindow(false, 0, TimeSpan.Zero));
    }

    private void Sweep(long now)
    {
        foreach (var (key, window) in windows)
        {
            lock (window)
            {
                if (window.EndsAt <= now)
                {
                    window.Removed = true;
                    windows.TryRemove(new KeyValuePair<string, Window>(key, window));
                }
            }
        }
    }

    private sealed class Window
    {
        public long Count;
        public long EndsAt;
        public bool Removed;
    }
}
