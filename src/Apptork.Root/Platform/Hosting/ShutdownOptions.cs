using System.ComponentModel.DataAnnotations;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;

namespace Apptork.Root.Platform.Hosting;

/// <summary>The <c>Shutdown__*</c> settings: how a process that receives SIGTERM finishes what it accepted before it exits.</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>The production shape's drain: a few seconds for a load balancer or Kubernetes to see the 503 and stop routing here.</summary>
    public const int ProductionDrainSeconds = 5;

    /// <summary>What stopping the process's other services may take after the server and the jobs: the mail queue's last sends, the telemetry's last export.</summary>
    public const int OtherServicesSeconds = 5;

    /// <summary>
    /// How long a process serving the API keeps serving after SIGTERM while <c>/healthz/ready</c> answers 503, before it
    /// stops accepting connections. Unset: 5 s in the production shape, 0 in the embedded shape (no load balancer to tell).
    /// </summary>
    [Range(0, 300)]
    public int? DrainSeconds { get; set; }

    /// <summary>How long requests still running when the server stops accepting connections are given to finish; past it they are cut off.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 30;

    public TimeSpan Drain(RuntimeShape shape) =>
        shape.Role.ServesApi() ? TimeSpan.FromSeconds(DrainSeconds ?? (shape.IsProduction ? ProductionDrainSeconds : 0)) : TimeSpan.Zero;

    /// <summary>
    /// The host's whole shutdown budget: the drain and the requests' timeout when the process serves the API, then the
    /// jobs' (their time to finish and to be handed back) when it runs them, then the other services'. Past it the
    /// host stops waiting. An orchestrator's grace period (<c>terminationGracePeriodSeconds</c>) must exceed it.
    /// </summary>
    public TimeSpan HostTimeout(RuntimeShape shape, JobsOptions jobs) =>
        (shape.Role.ServesApi() ? Drain(shape) + TimeSpan.FromSeconds(TimeoutSeconds) : TimeSpan.Zero)
        + (shape.Role.RunsJobs() ? jobs.StopBudget : TimeSpan.Zero)
        + TimeSpan.FromSeconds(OtherServicesSeconds);
}
