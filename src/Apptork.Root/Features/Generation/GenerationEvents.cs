using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Generation;

/// <summary>One piece of a text generation's answer, in the order written; <see cref="Index"/> counts from 0 in each run.</summary>
public sealed record GenerationDelta(int Index, string Text);

/// <summary>The answer starts over (the generation runs again): the pieces received so far are to be discarded.</summary>
public sealed record GenerationRestarted(string Reason);

/// <summary>
/// A generation's server-sent events: <c>generation</c> (its view, now and at each change of status), <c>delta</c> (a piece
/// of a text answer, with an <c>id:</c>) and <c>restarted</c> (discard the pieces so far), until it succeeds or fails.
/// <para>
/// A client that reconnects with <c>Last-Event-ID</c> gets exactly the pieces it missed, then the live ones. Once the
/// generation has ended, a client that has not followed it (no id, or one the kept log no longer holds) gets the final
/// text as one <c>delta</c> whose id is <see cref="FinalTextId"/>, and a reconnection with that id gets nothing again. A
/// client that followed from the start but whose pieces did not all reach this process gets the same at the end, after a
/// <c>restarted</c> if it had some: whatever happened on the way, what it shows is the stored text.
/// </para>
/// </summary>
public sealed class GenerationEvents(RootDbContext db, IFileStorage storage, IGenerationDeltas deltas, TimeProvider time)
{
    public const string GenerationEvent = "generation";
    public const string DeltaEvent = "delta";
    public const string RestartedEvent = "restarted";

    /// <summary>The id of the one <c>delta</c> that replays a finished generation's whole text.</summary>
    public const string FinalTextId = "final";

    public const string KeepAliveEvent = "keep-alive";

    /// <summary>
    /// Sent when nothing else was for this long, so that no proxy or client read timeout (OkHttp's default is 10 s)
    /// cuts a stream waiting for the job or the model's first token. An event rather than an SSE comment: the framework's
    /// writer sends events only, and clients ignore an event type they do not listen to.
    /// </summary>
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(5);

    private static readonly SseItem<object> KeepAlive = new(new { }, KeepAliveEvent);

    /// <summary>A stream ends after this long, and the client reconnects: no connection is held for ever.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the status is read from the database without being told: the worker announces each change, so this only
    /// covers an announcement lost (Redis down, a worker killed).
    /// </summary>
    private static readonly TimeSpan StatusPollInterval = TimeSpan.FromSeconds(2);

    public async Task<GenerationView?> ViewAsync(Guid id, Guid userId, CancellationToken cancellationToken)
    {
        var generation = await db.Generations.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id && candidate.UserId == userId, cancellationToken);
        if (generation is null)
        {
            return null;
        }

        SignedUrl? download = null;
        if (generation.ResultFileId is { } fileId && await db.Files.AsNoTracking().SingleOrDefaultAsync(file => file.Id == fileId, cancellationToken) is { } file)
        {
            download = await storage.SignDownloadAsync(file.StorageKey, file.Filename, file.ContentType, cancellationToken);
        }

        return GenerationView.Of(generation, download);
    }

    /// <param name="first">The generation as the request found it.</param>
    /// <param name="lastEventId">The last id the client received, from a reconnection; null on a first connection.</param>
    /// <param name="stopping">The process is stopping: the stream ends so that the shutdown is not held up.</param>
    public async IAsyncEnumerable<SseItem<object>> StreamAsync(
        GenerationView first, Guid userId, string? lastEventId, CancellationToken stopping, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (IsFinal(first))
        {
            await foreach (var item in EndedAsync(first, lastEventId, cancellationToken))
            {
                yield return item;
            }

            yield break;
        }

        var wake = new Wake();
        await using var watch = await deltas.WatchAsync(first.Id, wake.Signal);
        var ends = time.GetUtcNow() + Lifetime;
        var last = first;
        yield return new SseItem<object>(last, GenerationEvent);

        // What the client shows (the pieces since the last restart), checked against the stored text at the end. A client
        // that resumes shows what the log holds up to its id; one whose id the log does not hold starts over.
        var shown = new StringBuilder();
        string? after = null;
        if (lastEventId is not null)
        {
            var log = await deltas.ReadAsync(first.Id, afterId: null, cancellationToken);
            var resumeAt = log.Select(entry => entry.Id).ToList().IndexOf(lastEventId);
            if (resumeAt < 0)
            {
                yield return new SseItem<object>(new GenerationRestarted("unknown_last_event_id"), RestartedEvent);
            }
            else
            {
                foreach (var entry in log.Take(resumeAt + 1))
                {
                    Item(entry, shown);
                }

                after = lastEventId;
            }
        }

        var nextPoll = time.GetUtcNow() + StatusPollInterval;
        var lastSent = time.GetUtcNow();
        while (true)
        {
            var (newDeltas, statusChanged) = wake.Take();
            if (newDeltas)
            {
                foreach (var entry in await deltas.ReadAsync(first.Id, after, cancellationToken))
                {
                    after = entry.Id;
                    lastSent = time.GetUtcNow();
                    yield return Item(entry, shown);
                }
            }

            if (statusChanged || time.GetUtcNow() >= nextPoll)
            {
                nextPoll = time.GetUtcNow() + StatusPollInterval;
                if (await ViewAsync(first.Id, userId, cancellationToken) is { } now && now.Status != last.Status)
                {
                    last = now;
                    if (IsFinal(now))
                    {
                        // The worker wrote every piece before the result: whatever this stream has not sent yet is in the log now.
                        foreach (var entry in await deltas.ReadAsync(first.Id, after, cancellationToken))
                        {
                            yield return Item(entry, shown);
                        }

                        // Pieces that never reached this process (no Redis between a separate worker and this api, or an
                        // outage): the client is brought to the stored text rather than left with a part of it.
                        if (now.ResultText is { } text && shown.ToString() != text)
                        {
                            if (shown.Length > 0)
                            {
                                yield return new SseItem<object>(new GenerationRestarted("incomplete"), RestartedEvent);
                            }

                            yield return FinalText(text);
                        }
                    }

                    lastSent = time.GetUtcNow();
                    yield return new SseItem<object>(now, GenerationEvent);
                }
            }

            if (time.GetUtcNow() - lastSent >= KeepAliveInterval)
            {
                lastSent = time.GetUtcNow();
                yield return KeepAlive;
            }

            if (IsFinal(last) || time.GetUtcNow() >= ends
                || !await wake.WaitAsync(Min(nextPoll, ends) - time.GetUtcNow(), time, stopping, cancellationToken))
            {
                yield break;
            }
        }
    }

    /// <summary>A finished generation: what the client missed of its text, then its final view.</summary>
    private async IAsyncEnumerable<SseItem<object>> EndedAsync(GenerationView ended, string? lastEventId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ended is { Status: GenerationStatus.Succeeded, ResultText: { } text } && lastEventId != FinalTextId)
        {
            var log = lastEventId is null ? [] : await deltas.ReadAsync(ended.Id, afterId: null, cancellationToken);
            var seen = log.Select((entry, position) => (entry, position)).FirstOrDefault(pair => pair.entry.Id == lastEventId);
            if (seen.entry is not null)
            {
                foreach (var entry in log.Skip(seen.position + 1))
                {
                    yield return Item(entry, shown: null);
                }
            }
            else
            {
                if (lastEventId is not null)
                {
                    yield return new SseItem<object>(new GenerationRestarted(log.Count == 0 ? "log_expired" : "unknown_last_event_id"), RestartedEvent);
                }

                yield return FinalText(text);
            }
        }

        yield return new SseItem<object>(ended, GenerationEvent);
    }

    /// <param name="shown">The text the client shows, kept up to date with this entry.</param>
    private static SseItem<object> Item(DeltaEntry entry, StringBuilder? shown)
    {
        if (entry.Kind == DeltaEntryKind.Restarted)
        {
            shown?.Clear();
            return new SseItem<object>(new GenerationRestarted("run_again"), RestartedEvent) { EventId = entry.Id };
        }

        shown?.Append(entry.Text);
        return new SseItem<object>(new GenerationDelta(entry.Index, entry.Text), DeltaEvent) { EventId = entry.Id };
    }

    private static SseItem<object> FinalText(string text) => new(new GenerationDelta(0, text), DeltaEvent) { EventId = FinalTextId };

    private static bool IsFinal(GenerationView view) => view.Status is GenerationStatus.Succeeded or GenerationStatus.Failed;

    private static DateTimeOffset Min(DateTimeOffset first, DateTimeOffset second) => first < second ? first : second;

    /// <summary>What the log's watch reported since the stream last looked, and a wait for the next report.</summary>
    private sealed class Wake
    {
        private TaskCompletionSource signalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first look reads the log: a client arriving mid-answer gets what was written before it subscribed.
        private int deltasPending = 1;
        private int statusPending;

        public void Signal(DeltaSignal signal)
        {
            Volatile.Write(ref signal == DeltaSignal.Status ? ref statusPending : ref deltasPending, 1);
            Volatile.Read(ref signalled).TrySetResult();
        }

        public (bool Deltas, bool Status) Take() =>
            (Interlocked.Exchange(ref deltasPending, 0) == 1, Interlocked.Exchange(ref statusPending, 0) == 1);

        /// <summary>Until signalled or <paramref name="longest"/> has passed: false when the process began to stop.</summary>
        public async Task<bool> WaitAsync(TimeSpan longest, TimeProvider time, CancellationToken stopping, CancellationToken cancellationToken)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancellationToken);
            try
            {
                await signalled.Task.WaitAsync(longest > TimeSpan.Zero ? longest : TimeSpan.Zero, time, either.Token);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            // Reset only after the wait: a signal that came while the stream was busy completed the old one, so that wait
            // returned at once, and its flag is read next.
            Volatile.Write(ref signalled, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            return !stopping.IsCancellationRequested;
        }
    }
}
