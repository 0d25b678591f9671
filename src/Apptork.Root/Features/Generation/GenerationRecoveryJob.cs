using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>Every few minutes, enqueues again the generations whose job was lost (its worker died mid-run, or its job failed for good in Hangfire); a job never enqueued is the dispatcher's (<see cref="GenerationDispatcher"/>).</summary>
public sealed partial class GenerationRecoveryJob(RootDbContext db, IBackgroundJobClient jobs, IOptions<GenerationOptions> options, TimeProvider time, ILogger<GenerationRecoveryJob> logger)
    : IRecurringJob
{
    public string Id => "generation-recovery";

    public string Schedule => "*/5 * * * *";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var staleBefore = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.StaleAfterSeconds);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} stale generation(s) enqueued again")]
    private static partial void LogRecovered(ILogger logger, int count);
}
