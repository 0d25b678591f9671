using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Every few minutes, enqueues again the generations whose job was lost (its worker died mid-run, or its job failed for
/// good in Hangfire); a job never enqueued is the dispatcher's (<see cref="GenerationDispatcher"/>). One still unfinished
/// <c>Generation__GiveUpAfterSeconds</c> after its creation is failed instead, its hold released or its charge refunded:
/// credits are not held, nor paid for, by a job lost for good.
/// </summary>
public sealed partial class GenerationRecoveryJob(
    RootDbContext db, IBackgroundJobClient jobs, GenerationOutcomes outcomes, IGenerationDeltas deltas, IOptions<GenerationOptions> options, TimeProvider time,
    ILogger<GenerationRecoveryJob> logger)
    : IRecurringJob
{
    public string Id => "generation-recovery";

    public string Schedule => "*/5 * * * *";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var staleBefore = now - TimeSpan.FromSeconds(options.Value.StaleAfterSeconds);
        await GiveUpAsync(staleBefore, now - TimeSpan.FromSeconds(options.Value.GiveUpAfterSeconds), cancellationToken);
        var stale = await db.Generations
            .Where(generation => (generation.Status == GenerationStatus.Queued || generation.Status == GenerationStatus.Running) && generation.UpdatedAt < staleBefore)
            .OrderBy(generation => generation.UpdatedAt).Select(generation => generation.Id).Take(1000).ToListAsync(cancellationToken);
        foreach (var id in stale)
        {
            jobs.Enqueue(GenerationJob.For(id));
        }

        if (stale.Count > 0)
        {
            LogRecovered(logger, stale.Count);
        }
    }

    /// <summary>
    /// Fails the stale generations created before <paramref name="createdBefore"/>, each only while it is still as read
    /// (same status and <see cref="Generation.UpdatedAt"/>): a worker that picks one up meanwhile keeps it.
    /// </summary>
    private async Task GiveUpAsync(DateTimeOffset staleBefore, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        var lost = await db.Generations.AsNoTracking()
            .Where(generation => (generation.Status == GenerationStatus.Queued || generation.Status == GenerationStatus.Running)
                && generation.UpdatedAt < staleBefore && generation.CreatedAt < createdBefore)
            .OrderBy(generation => generation.UpdatedAt).Take(1000).ToListAsync(cancellationToken);
        foreach (var generation in lost)
        {
            var seenStatus = generation.Status;
            var seenAt = generation.UpdatedAt;
            if (await outcomes.FailAsync(generation, candidate => candidate.Status == seenStatus && candidate.UpdatedAt == seenAt, "No worker finished it in time: given up"))
            {
                LogGivenUp(logger, generation.Id, generation.CreatedAt);
                RootMetrics.GenerationEntered("failed");
                await deltas.AnnounceStatusAsync(generation.Id);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId}, created {CreatedAt}, given up: no worker finished it; its hold released or its charge refunded")]
    private static partial void LogGivenUp(ILogger logger, Guid generationId, DateTimeOffset createdAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} stale generation(s) enqueued again")]
    private static partial void LogRecovered(ILogger logger, int count);
}
