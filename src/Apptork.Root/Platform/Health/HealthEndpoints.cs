using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// Plain probes for orchestrators: <c>/healthz/live</c> says the process answers; <c>/healthz/ready</c> says it can
/// serve (database reachable and migrated, and not stopping). Neither names the health page (<see cref="HealthPage"/>), whose path is its secret.
/// </summary>
public static class HealthEndpoints
{
    public const string PathPrefix = "/healthz";

    private const string ReadyTag = "ready";

    public static IServiceCollection AddHealthProbes(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseMigratedCheck>("database", tags: [ReadyTag])
            .AddCheck<StoppingCheck>("stopping", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthProbes(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks($"{PathPrefix}/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .ExcludeFromDescription();
        endpoints.MapHealthChecks($"{PathPrefix}/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .ExcludeFromDescription();
        return endpoints;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report) => HealthReportWriter.WriteAsync(context, report, (name, _) => name);

    private sealed class DatabaseMigratedCheck(RootDbContext db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
                return pending == 0
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"{pending} migration(s) pending: run the migrate command.");
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Only the kind of failure: the message may carry host names or credentials.
                return HealthCheckResult.Unhealthy($"database unreachable ({exception.GetType().Name})");
            }
        }
    }

    /// <summary>From the stop signal on, not ready: a load balancer stops sending requests while those under way finish.</summary>
    private sealed class StoppingCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
                ? HealthCheckResult.Unhealthy("stopping: draining the requests under way")
                : HealthCheckResult.Healthy());
    }
}
