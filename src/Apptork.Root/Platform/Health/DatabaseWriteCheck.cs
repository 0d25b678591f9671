using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// Inserts a row in <c>health_probes</c> and deletes it, through the application's own context. Not
/// <c>AspNetCore.HealthChecks.NpgSql</c>: it runs a query (a <c>SELECT 1</c>), which a database that refuses writes still
/// answers, and it covers PostgreSQL only where this check is the same on both shapes.
/// </summary>
public sealed class DatabaseWriteCheck(RootDbContext db, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var probe = new HealthProbe { Id = Guid.NewGuid(), WrittenAt = time.GetUtcNow() };
            db.HealthProbes.Add(probe);
            await db.SaveChangesAsync(cancellationToken).WaitAsync(cancellationToken);
            var deleted = await db.HealthProbes.Where(row => row.Id == probe.Id).ExecuteDeleteAsync(cancellationToken).WaitAsync(cancellationToken);
            return deleted == 1
                ? HealthCheckResult.Healthy("a row written and deleted")
                : HealthCheckResult.Unhealthy("the row written could not be deleted");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Only the kind of failure: the message may carry host names or credentials.
            return HealthCheckResult.Unhealthy($"database write failed ({exception.GetType().Name})");
        }
    }
}
