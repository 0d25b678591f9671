using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Platform.Jobs;

/// <summary>Where Hangfire keeps jobs.</summary>
public enum JobStorageKind
{
    /// <summary>A SQLite file beside the embedded database (<c>apptork-root-jobs.db</c>): durable across restarts.</summary>
    Sqlite,
    /// <summary>The <c>hangfire</c> schema of the application's PostgreSQL database, installed by <c>migrate</c>.</summary>
    Postgres,
}

/// <summary>The <c>Jobs__*</c> settings.</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Unset: follows <c>Database__Provider</c>.</summary>
    public JobStorageKind? Storage { get; set; }

    /// <summary>Jobs one worker process runs at once. AI calls mostly wait on the network, so more than the cores.</summary>
    [Range(1, 200)]
    public int WorkerCount { get; set; } = 10;

    /// <summary>
    /// How long after a worker stops answering for a job (killed, cut off) another worker takes the job over. Running jobs
    /// keep extending it (sliding invisibility on PostgreSQL), so it bounds the wait after a crash, not a job's length.
    /// </summary>
    [Range(10, 86_400)]
    public int InvisibilityTimeoutSeconds { get; set; } = 1800;

    /// <summary>How long a stopping worker lets running jobs finish before they are abandoned to another worker.</summary>
    [Range(1, 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 30;
}
