using HealthChecks.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// A PING to every Redis server through the application's own connection (<c>AspNetCore.HealthChecks.Redis</c>), or
/// "not configured" where the shape has no Redis. Its result is reworded here: the package's failure descriptions may
/// name the server's endpoint, and the page shows no host name.
/// </summary>
public sealed class RedisRoundTripCheck(IConnectionMultiplexer? redis = null) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (redis is null)
        {
            return HealthCheckResult.Healthy("not configured");
        }

        var result = await new RedisHealthCheck(redis).CheckHealthAsync(context, cancellationToken).WaitAsync(cancellationToken);
        return result.Status == HealthStatus.Healthy
            ? HealthCheckResult.Healthy("PING answered")
            : new HealthCheckResult(result.Status, result.Exception is { } exception ? $"Redis unreachable ({exception.GetType().Name})" : "Redis unreachable");
    }
}
