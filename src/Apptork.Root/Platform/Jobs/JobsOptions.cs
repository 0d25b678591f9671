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

    /// <summary>
    /// How long a stopping worker lets running jobs finish; past it their cancellation token fires and each hands its
    /// job back to the queue, where another worker picks it up at once.
    /// </summary>
    [Range(1, 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How often each idle worker thread looks for a new job in PostgreSQL's queue: a worker apart from the api learns of a
    /// job only by polling, so this bounds the wait from enqueue to start. Each idle thread makes one cheap query per poll.
    /// </summary>
    [Range(10, 10_000)]
    public int QueuePollMilliseconds { get; set; } = 100;

    /// <summary>What a cancelled job may take to hand its work back (release its claim, put the job back in the queue).</summary>
    public const int HandBackSeconds = 5;

    /// <summary>Statements Npgsql prepares on each of the job storage's connections (its <c>Max Auto Prepare</c>): more than Hangfire's distinct hot ones.</summary>
    public const int PreparedStatementsPerConnection = 30;

    /// <summary>Connections of the job storage's own pool beyond one per worker thread: enqueues, and the job server's own processes (heartbeat, schedulers, expiration).</summary>
    public const int StorageConnectionsBesideWorkers = 10;

    /// <summary>How long stopping the job server may take: the jobs' time to finish, then to hand back.</summary>
    public TimeSpan StopBudget => TimeSpan.FromSeconds(ShutdownTimeoutSeconds + HandBackSeconds);
}
