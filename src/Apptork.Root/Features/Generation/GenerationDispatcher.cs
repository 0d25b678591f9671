using System.Threading.Channels;
using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Moves the generation's job from the request to the background: a request commits the generation, its charge and an
/// <see cref="UndispatchedGeneration"/> row together, answers and announces it (<see cref="OwedGenerations"/>); this
/// service, woken by that announcement, enqueues the jobs to Hangfire in batches and deletes their rows. It also sweeps at
/// start and every <c>Generation__DispatchSweepSeconds</c>, so the generations of a process that died before dispatching
/// them, or whose announcement was lost, are dispatched by any other process. Enqueuing on the request cost a dozen round
/// trips to the job storage each, which held creation to 183/s against about 2,000 wallet debits/s (bench/generations.sh;
/// figures with this change in bench/README.md).
/// </summary>
/// <remarks>
/// At least once: a process dying after an enqueue and before deleting its row leaves the row, and the generation is
/// enqueued again; the job's claim (a conditional UPDATE from queued to running) makes the second job do nothing.
/// </remarks>
public sealed partial class GenerationDispatcher(
    IServiceScopeFactory scopes, JobEnqueuer enqueuer, ChangeBroadcast broadcast, IHostApplicationLifetime lifetime, IOptions<GenerationOptions> options,
    ILogger<GenerationDispatcher> logger) : BackgroundService
{
    private const int BatchSize = 100;

    // One pending wake-up is enough: a dispatch started after it takes every row committed before it.
    private readonly Channel<bool> wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Announcements heard before the start are not lost: the first sweep, at the start, takes what they announced.
        broadcast.Subscribe(OwedGenerations.Topic, _ => wakeUps.Writer.TryWrite(true));
        // Not before the host has started: a process that fails to start (its address taken) is being disposed, and a
        // sweep under way would fail loudly against its disposed database.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var sweep = TimeSpan.FromSeconds(options.Value.DispatchSweepSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await DispatchBatchAsync(stoppingToken) == BatchSize)
                {
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The rows stay: the next wake-up or sweep dispatches them.
                LogDispatchFailed(logger, exception.Message);
            }

            using var untilSweep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            untilSweep.CancelAfter(sweep);
            try
            {
                await wakeUps.Reader.ReadAsync(untilSweep.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Enqueues up to <see cref="BatchSize"/> owed jobs and deletes their rows; how many it enqueued.</summary>
    private async Task<int> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        if (!db.Database.IsNpgsql())
        {
            // The embedded shape has one process, so no other dispatcher to keep apart from; and a SQLite transaction
            // held over the enqueues would hold every request's write.
            var owed = await db.UndispatchedGenerations.AsNoTracking().OrderBy(undispatched => undispatched.GenerationId).Take(BatchSize).ToListAsync(cancellationToken);
            await EnqueueAsync(owed);
            var ids = owed.Select(undispatched => undispatched.GenerationId).ToList();
            await db.UndispatchedGenerations.Where(undispatched => ids.Contains(undispatched.GenerationId)).ExecuteDeleteAsync(CancellationToken.None);
            return owed.Count;
        }

        // The rows stay locked until their jobs are enqueued and the rows deleted: another process's dispatcher skips
        // them rather than enqueue them too, and a process dying meanwhile leaves them to the next sweep. Only these rows
        // are locked, never the generations, whose jobs may already be claiming them. Row locks work through PgBouncer
        // in transaction mode, as the transaction keeps its server connection.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var batch = await db.UndispatchedGenerations.FromSql(
            $"SELECT * FROM undispatched_generations ORDER BY generation_id LIMIT {BatchSize} FOR UPDATE SKIP LOCKED").AsNoTracking()
            .ToListAsync(cancellationToken);
        if (batch.Count == 0)
        {
            return 0;
        }

        await EnqueueAsync(batch);
        // Not cancelled past here: the jobs are in Hangfire, and rows left behind would only enqueue them again.
        var dispatched = batch.Select(undispatched => undispatched.GenerationId).ToList();
        await db.UndispatchedGenerations.Where(undispatched => dispatched.Contains(undispatched.GenerationId)).ExecuteDeleteAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        return batch.Count;
    }

    /// <summary>On the job enqueuer's own threads, several at once: Hangfire's client blocks on each enqueue's round trips.</summary>
    private async Task EnqueueAsync(List<UndispatchedGeneration> owed)
    {
        var enqueues = new List<Task<string>>(owed.Count);
        foreach (var undispatched in owed)
        {
            using (JobContext.EnqueuingFor(undispatched.CorrelationId, undispatched.UserId, undispatched.TraceParent))
            {
                enqueues.Add(enqueuer.EnqueueAsync(GenerationJob.For(undispatched.GenerationId)));
            }
        }

        await Task.WhenAll(enqueues);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generations' jobs not dispatched, trying again at the next wake-up or sweep: {Error}")]
    private static partial void LogDispatchFailed(ILogger logger, string error);
}
