using System.Threading.Channels;
using Apptork.Root.Platform.Broadcasts;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Tells the generation dispatchers that jobs are owed, right after the commit that owes them: through the change
/// broadcast, so a dispatcher in this process hears it at once and, with Redis, those of the worker processes too.
/// Announcements coalesce: while one is being published, the next commits share a single following one, so a burst of
/// creations costs a publish per Redis round trip, not one per request, and every commit is still followed by one.
/// </summary>
public sealed class OwedGenerations(ChangeBroadcast broadcast) : BackgroundService
{
    public const string Topic = "generations-owed";

    private readonly Channel<bool> pending = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>After a commit that wrote <see cref="UndispatchedGeneration"/> rows.</summary>
    public void Announce() => pending.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var _ in pending.Reader.ReadAllAsync(stoppingToken))
            {
                await broadcast.PublishAsync(Topic, string.Empty);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
