using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Persistence;
using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Platform.Jobs;

/// <summary>A job that runs on a schedule; features register theirs and every worker keeps the schedule up to date.</summary>
public interface IRecurringJob
{
    /// <summary>Stable: the schedule is stored under it.</summary>
    string Id { get; }

    /// <summary>A cron expression (UTC), e.g. <see cref="Cron.Hourly()"/>.</summary>
    string Schedule { get; }

    /// <summary>Idempotent: it may run twice, and a second run changes nothing (a job may be delivered twice: after a crash, a retry or a recovery sweep).</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Background work on Hangfire: the storage follows the shape (a SQLite file in the embedded shape, which survives a
/// restart as Hangfire.InMemory would not; PostgreSQL in production), the <c>worker</c> and <c>all</c> roles run the
/// server and <c>api</c> only enqueues.
/// </summary>
public static class JobsSetup
{
    public const string PostgresSchema = "hangfire";

    /// <summary>The job storage's connections' <c>application_name</c>, and so its pool's name in the metrics.</summary>
    public const string JobsApplicationName = "apptork-root-jobs";

    public static IServiceCollection AddJobs(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSettings<JobsOptions>(JobsOptions.Section);
        var shape = RuntimeShape.From(configuration);
        // Read leniently: a mistyped value is reported by name with the other settings, when the process starts.
        var storage = SettingNames.TryParse<JobStorageKind>(configuration[$"{JobsOptions.Section}:{nameof(JobsOptions.Storage)}"] ?? string.Empty, out var chosen)
            ? chosen
            : shape.Database == DatabaseProvider.Postgres ? JobStorageKind.Postgres : JobStorageKind.Sqlite;
        services.AddHttpContextAccessor();
        services.AddSingleton<JobContext>();
        services.AddSingleton<JobEnqueuer>();
        // Hangfire keeps its storage, activator and filters in statics unless the container provides them first: with
        // its own, every host in a process (the test suite runs hundreds) keeps its own database and services.
        services.AddSingleton<Hangfire.JobStorage>(provider =>
        {
            var settings = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsOptions>>().Value;
            var invisibility = TimeSpan.FromSeconds(settings.InvisibilityTimeoutSeconds);
            var poll = TimeSpan.FromMilliseconds(settings.QueuePollMilliseconds);
            return storage == JobStorageKind.Postgres
                ? new PostgreSqlStorage(
                    new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(JobsConnectionString(configuration), PostgresOptions(prepareSchema: false, invisibility, poll), null),
                    PostgresOptions(prepareSchema: false, invisibility, poll))
                : new SQLiteStorage(SqlitePath(configuration, environment), new SQLiteStorageOptions
                {
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                    InvisibilityTimeout = invisibility,
                });
        });
        services.AddSingleton<JobActivator>(provider => new Hangfire.AspNetCore.AspNetCoreJobActivator(provider.GetRequiredService<IServiceScopeFactory>()));
        // The job's span first, so it is current around everything else; then JobContext, so its log scope is open around
        // the server filters other platform parts register (error tracking, when it is on).
        services.AddSingleton<IJobFilterProvider>(provider =>
        {
            var filters = new JobFilterCollection { new JobTelemetry(), provider.GetRequiredService<JobContext>() };
            foreach (var filter in provider.GetServices<Hangfire.Server.IServerFilter>())
            {
                filters.Add(filter);
            }

            return new JobFilterProviderCollection(JobFilterProviders.Providers, filters);
        });
        services.AddHostedService<HangfireLogRegistration>();
        // Hangfire's default CaptureCulture filter stores two culture parameters per job and reads them back before every
        // run (bench/generations.sh, one worker process: no-op jobs 169-176/s with it, 196-200/s without). No job here
        // formats for a user: e-mails carry their culture explicitly and go through their own queue.
        GlobalJobFilters.Filters.Remove<CaptureCultureAttribute>();
        services.AddHangfire(hangfire => hangfire
            .UseLogProvider(HostsLogProvider.Instance)
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());

        if (shape.Role.RunsJobs())
        {
            services.AddHangfireServer((provider, server) =>
            {
                var settings = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsOptions>>().Value;
                server.WorkerCount = settings.WorkerCount;
                // Hangfire cancels running jobs' tokens after StopTimeout and stops waiting for them
                // after ShutdownTimeout; a cancelled job that throws is put back in the queue, where another worker finds it
                // at its next poll.
                server.StopTimeout = TimeSpan.FromSeconds(settings.ShutdownTimeoutSeconds);
                server.ShutdownTimeout = settings.StopBudget;
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                // Retries with backoff are scheduled jobs: picked up within 5 s of their time instead of Hangfire's 15.
                server.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            });
            services.AddHostedService<RecurringJobSchedule>();
        }

        if (storage == JobStorageKind.Postgres)
        {
            services.AddHostedService<PostgresJobSchemaCheck>();
        }

        return services;
    }

    /// <summary>
    /// Installs or upgrades Hangfire's own tables in the <c>hangfire</c> schema: part of <c>migrate</c>, so that, as with
    /// the application's tables, no serving process changes a shared schema by itself.
    /// </summary>
    public static void InstallPostgresSchema(IConfiguration configuration)
    {
        var defaults = new JobsOptions();
        var options = PostgresOptions(prepareSchema: true, TimeSpan.FromSeconds(defaults.InvisibilityTimeoutSeconds), TimeSpan.FromMilliseconds(defaults.QueuePollMilliseconds));
        _ = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(JobsConnectionString(configuration), options, null), options);
    }

    private static PostgreSqlStorageOptions PostgresOptions(bool prepareSchema, TimeSpan invisibility, TimeSpan queuePoll) => new()
    {
        SchemaName = PostgresSchema,
        PrepareSchemaIfNecessary = prepareSchema,
        InvisibilityTimeout = invisibility,
        // Without it a job still running after InvisibilityTimeout would be handed to a second worker.
        UseSlidingInvisibilityTimeout = true,
        // A worker process apart from the api learns of a job by polling (bench/generations.sh, enqueue to succeeded with
        // a no-op provider: p95 973 ms at 1 s, 170-212 ms at 250 ms: the idle threads poll nearly in step, so the wait is
        // about the interval, not a tenth of it). LISTEN/NOTIFY (EnableLongPolling) measured 86 ms, but holds a second
        // connection per fetch, ran fewer jobs a second and needs a session PgBouncer's transaction mode does not keep.
        QueuePollInterval = queuePoll,
    };

    /// <summary>
    /// The application's connection string under another application name, which gives Hangfire a connection pool of its
    /// own: a request that holds a pooled connection and enqueues a job (every generation) would otherwise wait for a
    /// second one from the same pool, and a burst of such requests would exhaust it, each waiting on the others. The pool
    /// is sized for what uses it (one connection per worker thread, and <see cref="JobsOptions.StorageConnectionsBesideWorkers"/>
    /// for enqueues and the server's own processes), not Npgsql's default of 100 per process.
    /// </summary>
    public static string JobsConnectionString(IConfiguration configuration)
    {
        var application = configuration.GetConnectionString("Postgres")
            ?? throw new StartupConfigurationException("ConnectionStrings__Postgres", "is required when Jobs__Storage=Postgres.");
        // Read leniently: a mistyped value is reported by name with the other settings, when the process starts.
        var workers = int.TryParse(configuration[$"{JobsOptions.Section}:{nameof(JobsOptions.WorkerCount)}"], out var count) ? count : new JobsOptions().WorkerCount;
        var jobs = new Npgsql.NpgsqlConnectionStringBuilder(application)
        {
            ApplicationName = JobsApplicationName,
            MaxPoolSize = (RuntimeShape.From(configuration).Role.RunsJobs() ? workers : 0) + JobsOptions.StorageConnectionsBesideWorkers,
        };
        // Hangfire runs the same few statements for every job: prepared once per connection, they cost PostgreSQL less to
        // run (bench/generations.sh: see docs/production.md). A connection string that sets it itself keeps its value:
        // 0 through a PgBouncer older than 1.21, which cannot keep prepared statements in transaction mode.
        if (!NamesSetting(application, "Max Auto Prepare"))
        {
            jobs.MaxAutoPrepare = JobsOptions.PreparedStatementsPerConnection;
        }

        return jobs.ConnectionString;
    }

    private static bool NamesSetting(string connectionString, string keyword)
    {
        // Npgsql's own builder reports every keyword it knows as present: only the raw pairs tell what the operator wrote.
        var pairs = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return pairs.Keys.Cast<string>().Any(key => string.Equals(key.Replace(" ", string.Empty, StringComparison.Ordinal), keyword.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Beside the embedded database file: <c>data/apptork-root.db</c> keeps its jobs in <c>data/apptork-root-jobs.db</c>,
    /// created as private as the database (job arguments name users).
    /// </summary>
    private static string SqlitePath(IConfiguration configuration, IHostEnvironment environment)
    {
        var jobs = PersistenceSetup.BesideSqliteDatabase(configuration, environment, "-jobs.db");
        PrivateFiles.CreateEmptyFile(jobs);
        return jobs;
    }
}

/// <summary>Keeps every feature's recurring jobs scheduled, at each worker's start (the schedule lives in the job storage).</summary>
public sealed class RecurringJobSchedule(IServiceScopeFactory scopes, IRecurringJobManager manager) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Jobs are scoped (they use the database); only their ids and schedules are read here.
        await using var scope = scopes.CreateAsyncScope();
        foreach (var job in scope.ServiceProvider.GetServices<IRecurringJob>())
        {
            var id = job.Id;
            manager.AddOrUpdate<RecurringJobRunner>(id, runner => runner.RunAsync(id, CancellationToken.None), job.Schedule);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>What Hangfire runs for a recurring job: finds the job by id, so that the stored schedule names no feature type.</summary>
public sealed class RecurringJobRunner(IEnumerable<IRecurringJob> jobs)
{
    [AutomaticRetry(Attempts = 3)]
    public Task RunAsync(string id, CancellationToken cancellationToken) =>
        (jobs.FirstOrDefault(job => job.Id == id) ?? throw new InvalidOperationException($"No recurring job '{id}' is registered."))
            .RunAsync(cancellationToken);
}

/// <summary>Refuses to start on a database whose <c>hangfire</c> schema <c>migrate</c> has not installed, as for the application's own tables.</summary>
public sealed class PostgresJobSchemaCheck(IServiceProvider services) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var installed = await db.Database.SqlQuery<bool>($"SELECT to_regclass({JobsSetup.PostgresSchema + ".job"}) IS NOT NULL AS \"Value\"").SingleAsync(cancellationToken);
        if (!installed)
        {
            throw new StartupConfigurationException(
                "ConnectionStrings__Postgres", "points at a database without the background jobs' tables; run `Apptork.Root migrate` with the same settings first.");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
