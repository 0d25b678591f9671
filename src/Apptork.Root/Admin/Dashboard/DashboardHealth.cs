using Apptork.Root.Platform.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apptork.Root.Admin.Dashboard;

/// <summary>One check's outcome as the dashboard lists it.</summary>
public sealed record HealthLine(string Name, HealthStatus Status, string? Description);

/// <summary>The health page's checks as last run: <see cref="Status"/> is null when they did not all answer in time.</summary>
public sealed record HealthSummary(HealthStatus? Status, IReadOnlyList<HealthLine> Checks, DateTimeOffset At);

/// <summary>
/// The health page's own checks (<see cref="HealthPageSetup.IsPageCheck"/>), run for the dashboard with a short
/// deadline and kept for a little while: they write to the database and storage and wait for a worker, which every
/// dashboard load need not repeat, and a hung dependency must not hang the dashboard.
/// </summary>
public sealed class DashboardHealth(HealthCheckService checks, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(6);

    public static readonly TimeSpan KeptFor = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim running = new(1, 1);
    private HealthSummary? latest;

    public async Task<HealthSummary> ReadAsync(CancellationToken cancellationToken)
    {
        // One run at a time: a few staff opening the dashboard together share it.
        await running.WaitAsync(cancellationToken);
        try
        {
            if (latest is { } kept && time.GetUtcNow() - kept.At < KeptFor)
            {
                return kept;
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Deadline);
            try
            {
                var report = await checks.CheckHealthAsync(HealthPageSetup.IsPageCheck, deadline.Token);
                latest = new HealthSummary(
                    report.Status,
                    report.Entries.Values.Select(entry => new HealthLine(entry.Tags.Single(), entry.Status, entry.Description)).OrderBy(line => line.Name, StringComparer.Ordinal).ToList(),
                    time.GetUtcNow());
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                latest = new HealthSummary(null, [], time.GetUtcNow());
            }

            return latest;
        }
        finally
        {
            running.Release();
        }
    }

    public void Dispose() => running.Dispose();
}
