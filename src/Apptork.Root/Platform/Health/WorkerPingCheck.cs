using Apptork.Root.Platform.Jobs;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// Enqueues a <see cref="HealthPingJob"/> and waits for a worker to run it: any <c>worker</c> or <c>all</c> process on
/// the same job storage (the in-process server in the embedded shape), so an <c>api</c> process with no live worker
/// behind it is unhealthy and says so. Written here: no package tests a Hangfire server by running a job. Its
/// deadline (<c>Health__WorkerDeadlineSeconds</c>) leaves room for Hangfire's polling of the queue, every 250 ms on
/// PostgreSQL and every second on SQLite.
/// </summary>
public sealed class WorkerPingCheck(
    JobEnqueuer enqueuer, JobStorage storage, IBackgroundJobClient jobs, IOptions<HealthPageOptions> options, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await PingAsync(cancellationToken).WaitAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Only the kind of failure: the job storage's messages may carry host names.
            return HealthCheckResult.Unhealthy($"job storage failed ({exception.GetType().Name})");
        }
    }

    private async Task<HealthCheckResult> PingAsync(CancellationToken cancellationToken)
    {
        var deadline = TimeSpan.FromSeconds(options.Value.WorkerDeadlineSeconds);
        var started = time.GetTimestamp();
        var id = await enqueuer.EnqueueAsync<HealthPingJob>(ping => ping.RunAsync());
        // Hangfire's storage calls are synchronous: each poll runs off the request's thread.
        while (await Task.Run(() => StateOf(id), cancellationToken) != SucceededState.StateName)
        {
            if (time.GetElapsedTime(started) >= deadline)
            {
                // A worker that comes back later skips it, instead of running a backlog of stale pings.
                await Task.Run(() => jobs.Delete(id), cancellationToken);
                return HealthCheckResult.Unhealthy($"no worker processed the ping within {options.Value.WorkerDeadlineSeconds} s");
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }

        return HealthCheckResult.Healthy($"a worker ran the ping job in {time.GetElapsedTime(started).TotalMilliseconds:0} ms");
    }

    private string? StateOf(string id)
    {
        using var connection = storage.GetConnection();
        return connection.GetStateData(id)?.Name;
    }
}

/// <summary>The job the worker check enqueues: running it is the proof; it does nothing else, so running it twice changes nothing.</summary>
public sealed class HealthPingJob
{
    [AutomaticRetry(Attempts = 0)]
    [ForgetPingSoon]
    public Task RunAsync() => Task.CompletedTask;

    /// <summary>A monitor pings every few seconds: its finished pings are forgotten after minutes, not Hangfire's default day.</summary>
    private sealed class ForgetPingSoonAttribute : JobFilterAttribute, IApplyStateFilter
    {
        public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction) =>
            context.JobExpirationTimeout = TimeSpan.FromMinutes(5);

        public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
        {
        }
    }
}
