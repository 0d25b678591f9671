using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apptork.Root.Platform.Health;

/// <summary>The JSON of the probes and of the health page: per check its status, duration and a short description.</summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report, Func<string, HealthReportEntry, string> nameOf)
    {
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = Name(report.Status),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                entry => nameOf(entry.Key, entry.Value),
                entry => new
                {
                    status = Name(entry.Value.Status),
                    duration_ms = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    description = Describe(entry.Value),
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

    /// <summary>
    /// A check's own words, or only the kind of an exception it let through: exception messages may carry host names,
    /// connection strings or signed URLs. A cancelled check is one that ran out of its timeout.
    /// </summary>
    private static string? Describe(HealthReportEntry entry) => entry.Exception switch
    {
        OperationCanceledException => string.Create(CultureInfo.InvariantCulture, $"no answer within {entry.Duration.TotalSeconds:0.#} s"),
        { } exception => $"failed ({exception.GetType().Name})",
        null => entry.Description,
    };
}
