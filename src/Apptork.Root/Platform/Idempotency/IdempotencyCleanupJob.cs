using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>
/// Every hour, forgets Idempotency-Keys the database holds (<see cref="DatabaseIdempotencyStore"/>) first used more than
/// <see cref="IdempotencyMiddleware.Retention"/> ago; Redis forgets its own by expiry.
/// </summary>
public sealed partial class IdempotencyCleanupJob(RootDbContext db, TimeProvider time, ILogger<IdempotencyCleanupJob> logger) : IRecurringJob
{
    public string Id => "idempotency-cleanup";

    public string Schedule => Cron.Hourly();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - IdempotencyMiddleware.Retention;
        var removed = await db.IdempotencyRecords.Where(record => record.StartedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        LogRemoved(logger, removed, IdempotencyMiddleware.Retention.TotalHours);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Idempotency-Keys: {Removed} older than {Hours} h removed")]
    private static partial void LogRemoved(ILogger logger, int removed, double hours);
}
