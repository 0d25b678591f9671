namespace Apptork.Root.Platform.Broadcasts;

/// <summary>
/// Something read from the database and kept in memory on every process (the feature flags, the messages board), so
/// that a hot path reads no table. <see cref="Invalidate"/> (called on a <see cref="ChangeBroadcast"/> message) makes the
/// next <see cref="GetAsync"/> wait for a fresh read: an operator's change holds on the next request. A snapshot merely
/// older than its maximum age answers at once while one background read refreshes it, so requests never queue behind a
/// periodic re-read (they may hold a database connection meanwhile, and all waiting for one more could drain the pool),
/// and a read that fails keeps the last snapshot answering and is tried again a second later.
/// </summary>
/// <param name="load">Reads the value; given the current one, so an unchanged read may return it and keep its identity.</param>
public sealed partial class LiveSnapshot<T>(string name, TimeSpan maxAge, Func<T?, CancellationToken, Task<T>> load, ILogger logger) : IDisposable
    where T : class
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim loading = new(1, 1);

    /// <summary>Counts announcements: a snapshot read before the latest one is stale, even one whose read was under way.</summary>
    private long changes;

    private Entry? current;

    public void Invalidate() => Interlocked.Increment(ref changes);

    public async ValueTask<T> GetAsync(CancellationToken cancellationToken)
    {
        var entry = Volatile.Read(ref current);
        if (entry is null || entry.Changes != Interlocked.Read(ref changes))
        {
            return await LoadOnceAsync(cancellationToken);
        }

        if (!IsFresh(entry) && loading.CurrentCount > 0)
        {
            _ = Task.Run(() => LoadOnceAsync(CancellationToken.None));
        }

        return entry.Value;
    }

    public void Dispose() => loading.Dispose();

    /// <summary>Its age on the machine's monotonic clock, not an injected one: a test's frozen clock must not freeze it.</summary>
    private bool IsFresh(Entry entry) =>
        entry.Changes == Interlocked.Read(ref changes) && Environment.TickCount64 - entry.ReadAt < maxAge.TotalMilliseconds;

    /// <summary>One read at a time; the others wait for its result rather than query too.</summary>
    private async Task<T> LoadOnceAsync(CancellationToken cancellationToken)
    {
        await loading.WaitAsync(cancellationToken);
        try
        {
            var previous = Volatile.Read(ref current);
            if (previous is not null && IsFresh(previous))
            {
                return previous.Value;
            }

            var seen = Interlocked.Read(ref changes);
            var readAt = Environment.TickCount64;
            try
            {
                var value = await load(previous?.Value, cancellationToken);
                Volatile.Write(ref current, new Entry(value, seen, readAt));
                return value;
            }
            catch (Exception exception) when (previous is not null && !cancellationToken.IsCancellationRequested)
            {
                LogReadFailed(logger, exception, name);
                Volatile.Write(ref current, new Entry(previous.Value, seen, readAt - (long)(maxAge - RetryAfterFailure).TotalMilliseconds));
                return previous.Value;
            }
        }
        finally
        {
            loading.Release();
        }
    }

    private sealed record Entry(T Value, long Changes, long ReadAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the {Name}; the ones read last keep answering, and the read is tried again")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string name);
}
