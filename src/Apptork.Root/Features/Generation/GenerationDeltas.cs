using System.Collections.Concurrent;
using System.Globalization;
using Apptork.Root.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Apptork.Root.Features.Generation;

public enum DeltaEntryKind
{
    /// <summary>A piece of the answer, as the provider wrote it.</summary>
    Delta,
    /// <summary>The answer starts over (another run of the generation): what came before it is to be discarded.</summary>
    Restarted,
}

/// <param name="Id">Orders the log: <c>{milliseconds}-{sequence}</c>, as Redis Streams number their entries.</param>
/// <param name="Index">A delta's place in its run, from 0.</param>
public sealed record DeltaEntry(string Id, DeltaEntryKind Kind, int Index, string Text);

/// <summary>What woke a watcher: new deltas in the log, or the generation's status changed in the database.</summary>
public enum DeltaSignal
{
    Deltas,
    Status,
}

/// <summary>
/// A text generation's answer as the worker receives it, kept for a short while (<c>Generation__DeltaRetentionSeconds</c>)
/// so that the process holding the client's connection, whichever it is, can send each piece as it comes and a client
/// that reconnects can catch up. Best effort: the stored result is the answer; a log that fails or expires costs the
/// client only the live view, never the generation.
/// </summary>
public interface IGenerationDeltas
{
    /// <summary>
    /// Adds one piece of a run's answer; index 0 starts a run, and is preceded by a <see cref="DeltaEntryKind.Restarted"/>
    /// entry when the log already holds an earlier run's.
    /// </summary>
    Task AppendAsync(Guid generationId, int index, string text);

    /// <summary>Wakes the generation's watchers to read its status again (it changed in the database).</summary>
    Task AnnounceStatusAsync(Guid generationId);

    /// <summary>The log's entries after <paramref name="afterId"/> (all of them when null), oldest first.</summary>
    Task<IReadOnlyList<DeltaEntry>> ReadAsync(Guid generationId, string? afterId, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="signalled"/> at each append or status change of the generation, until disposed.</summary>
    Task<IAsyncDisposable> WatchAsync(Guid generationId, Action<DeltaSignal> signalled);
}

/// <summary>
/// The production shape's log: a Redis Stream per generation, expiring <c>Generation__DeltaRetentionSeconds</c> after
/// its last entry, and a pub/sub channel of the same name that wakes the api processes following it. One script per
/// delta appends, refreshes the expiry and publishes in one round trip.
/// </summary>
public sealed partial class RedisGenerationDeltas(
    IConnectionMultiplexer redis, RedisKeys keys, IOptions<GenerationOptions> options, TimeProvider time, ILogger<RedisGenerationDeltas> logger)
    : IGenerationDeltas
{
    private const string AppendScript = """
        if ARGV[1] == '0' and redis.call('EXISTS', KEYS[1]) == 1 then
          redis.call('XADD', KEYS[1], '*', 'k', 'r')
        end
        redis.call('XADD', KEYS[1], '*', 'k', 'd', 'i', ARGV[1], 't', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        redis.call('PUBLISH', KEYS[1], 'd')
        return 1
        """;

    private static readonly RedisValue DeltasMessage = "d";
    private static readonly RedisValue StatusMessage = "s";

    private readonly OutageWarningGate outageWarnings = new(time);

    public async Task AppendAsync(Guid generationId, int index, string text)
    {
        var key = KeyOf(generationId);
        var retention = (long)TimeSpan.FromSeconds(options.Value.DeltaRetentionSeconds).TotalMilliseconds;
        await Tolerate(() => redis.GetDatabase().ScriptEvaluateAsync(AppendScript, [key], [index, text, retention]), "append");
    }

    public Task AnnounceStatusAsync(Guid generationId) =>
        Tolerate(() => redis.GetSubscriber().PublishAsync(RedisChannel.Literal(KeyOf(generationId)), StatusMessage), "announce");

    public async Task<IReadOnlyList<DeltaEntry>> ReadAsync(Guid generationId, string? afterId, CancellationToken cancellationToken)
    {
        StreamEntry[] entries = [];
        await Tolerate(async () => entries = await redis.GetDatabase().StreamReadAsync(KeyOf(generationId), afterId ?? "0-0"), "read");
        return [.. entries.Select(entry => entry["k"] == "r"
            ? new DeltaEntry(entry.Id!, DeltaEntryKind.Restarted, 0, string.Empty)
            : new DeltaEntry(entry.Id!, DeltaEntryKind.Delta, (int)entry["i"], entry["t"]!))];
    }

    public async Task<IAsyncDisposable> WatchAsync(Guid generationId, Action<DeltaSignal> signalled)
    {
        var channel = RedisChannel.Literal(KeyOf(generationId));
        void Handler(RedisChannel _, RedisValue message) => signalled(message == StatusMessage ? DeltaSignal.Status : DeltaSignal.Deltas);
        var subscriber = redis.GetSubscriber();
        var subscribed = await Tolerate(() => subscriber.SubscribeAsync(channel, Handler), "watch");
        return new Unwatch(subscribed ? () => subscriber.UnsubscribeAsync(channel, Handler) : () => Task.CompletedTask);
    }

    private string KeyOf(Guid generationId) => keys.Named("generation-deltas", generationId.ToString("N"));

    /// <summary>A Redis failure costs the live view only: logged (once per outage interval) and otherwise ignored.</summary>
    private async Task<bool> Tolerate(Func<Task> call, string operation)
    {
        try
        {
            await call();
            return true;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            if (outageWarnings.TryWarn(out var missed))
            {
                LogRedisFailed(logger, exception, operation, missed);
            }

            return false;
        }
    }

    private sealed class Unwatch(Func<Task> unsubscribe) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await unsubscribe();
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // The subscription ends with the connection anyway; the handler it would call is already unreachable.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable: generation deltas not streamed ({Operation}); clients see status changes and the final text only ({Missed} failures since the last warning)")]
    private static partial void LogRedisFailed(ILogger logger, Exception exception, string operation, long missed);
}

/// <summary>
/// The embedded shape's log: in this process's memory, where its worker and its api are. A log is dropped
/// <c>Generation__DeltaRetentionSeconds</c> after its last entry once nobody watches it.
/// </summary>
public sealed class InProcessGenerationDeltas(IOptions<GenerationOptions> options, TimeProvider time) : IGenerationDeltas
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<Guid, Log> logs = new();
    private long nextSweep;

    public Task AppendAsync(Guid generationId, int index, string text)
    {
        var now = time.GetUtcNow();
        SweepIfDue(now);
        var log = logs.GetOrAdd(generationId, _ => new Log());
        lock (log)
        {
            if (index == 0 && log.Entries.Count > 0)
            {
                log.Add(DeltaEntryKind.Restarted, 0, string.Empty, now);
            }

            log.Add(DeltaEntryKind.Delta, index, text, now);
            log.ExpiresAt = now + TimeSpan.FromSeconds(options.Value.DeltaRetentionSeconds);
        }

        log.Signal(DeltaSignal.Deltas);
        return Task.CompletedTask;
    }

    public Task AnnounceStatusAsync(Guid generationId)
    {
        if (logs.TryGetValue(generationId, out var log))
        {
            log.Signal(DeltaSignal.Status);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DeltaEntry>> ReadAsync(Guid generationId, string? afterId, CancellationToken cancellationToken)
    {
        if (!logs.TryGetValue(generationId, out var log))
        {
            return Task.FromResult<IReadOnlyList<DeltaEntry>>([]);
        }

        var after = afterId is null ? (0UL, 0UL) : Position(afterId);
        lock (log)
        {
            return Task.FromResult<IReadOnlyList<DeltaEntry>>([.. log.Entries.Where(entry => Position(entry.Id).CompareTo(after) > 0)]);
        }
    }

    public Task<IAsyncDisposable> WatchAsync(Guid generationId, Action<DeltaSignal> signalled)
    {
        var log = logs.GetOrAdd(generationId, _ => new Log());
        lock (log)
        {
            log.Watchers.Add(signalled);
        }

        return Task.FromResult<IAsyncDisposable>(new Unwatch(() =>
        {
            lock (log)
            {
                log.Watchers.Remove(signalled);
                // A log nothing was written to (an image, a generation that ended before it streamed) goes with its last watcher.
                if (log.Watchers.Count == 0 && log.Entries.Count == 0)
                {
                    logs.TryRemove(new KeyValuePair<Guid, Log>(generationId, log));
                }
            }
        }));
    }

    /// <summary>An id as Redis orders it: milliseconds, then sequence. Callers pass ids the log gave.</summary>
    private static (ulong Milliseconds, ulong Sequence) Position(string id)
    {
        var parts = id.Split('-');
        return (ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private void SweepIfDue(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref nextSweep);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref nextSweep, (now + SweepInterval).UtcTicks, due) != due)
        {
            return;
        }

        foreach (var (generationId, log) in logs)
        {
            lock (log)
            {
                if (log.Watchers.Count == 0 && log.ExpiresAt < now)
                {
                    logs.TryRemove(generationId, out _);
                }
            }
        }
    }

    private sealed class Log
    {
        private ulong lastMilliseconds;
        private ulong sequence;

        public List<DeltaEntry> Entries { get; } = [];

        public List<Action<DeltaSignal>> Watchers { get; } = [];

        public DateTimeOffset ExpiresAt { get; set; }

        /// <summary>Under the log's lock: ids as Redis makes them, increasing even when the clock does not.</summary>
        public void Add(DeltaEntryKind kind, int index, string text, DateTimeOffset now)
        {
            var milliseconds = (ulong)now.ToUnixTimeMilliseconds();
            if (milliseconds > lastMilliseconds)
            {
                lastMilliseconds = milliseconds;
                sequence = 0;
            }
            else
            {
                sequence++;
            }

            Entries.Add(new DeltaEntry($"{lastMilliseconds}-{sequence}", kind, index, text));
        }

        public void Signal(DeltaSignal signal)
        {
            Action<DeltaSignal>[] watchers;
            lock (this)
            {
                watchers = [.. Watchers];
            }

            foreach (var watcher in watchers)
            {
                watcher(signal);
            }
        }
    }

    private sealed class Unwatch(Action unwatch) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            unwatch();
            return ValueTask.CompletedTask;
        }
    }
}
