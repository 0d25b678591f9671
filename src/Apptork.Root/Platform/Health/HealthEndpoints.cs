using System.Text.Json;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// Plain probes for orchestrators: <c>/healthz/live</c> says the process answers; <c>/healthz/ready</c> says it can
/// serve (database reachable and migrated). The full, obfuscated health page with every dependency comes separately.
/// </summary>
public static class HealthEndpoints
{
    public const string PathPrefix = "/healthz";

    private const string ReadyTag = "ready";

    public static IServiceCollection AddHealthProbes(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseMigratedCheck>("database", tags: [ReadyTag]);
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

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = Name(report.Status),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new
                {
                    status = Name(entry.Value.Status),
                    duration_ms = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    description = entry.Value.Description,
                }),
        };
        return context.Response.WriteAsJsonAsync(body, JsonSerializerOptions.Web, "application/json");
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };

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
}
