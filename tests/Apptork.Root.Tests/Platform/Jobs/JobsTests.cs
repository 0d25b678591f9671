using System.Collections.Concurrent;
using System.Net;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Jobs;

public sealed class JobsTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    /// <summary>A request that enqueues a job, as generations do: the job must carry the request's ids.</summary>
    private static RootApp.TestExtensions EnqueueRoute { get; } = new(endpoints =>
        endpoints.MapPost("/test/jobs/{marker}", async (string marker, JobEnqueuer jobs) =>
        {
            await jobs.EnqueueAsync<RecordingJob>(job => job.Run(marker));
            return Results.Accepted();
        }).RequireAuthorization());

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_job_enqueued_by_a_request_runs_with_its_correlation_and_user_ids(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, extensions: EnqueueRoute);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("enqueuer@example.com");
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/test/jobs/{marker}");
        request.Headers.Authorization = new("Bearer", signedIn.AccessToken);
        request.Headers.Add("X-Correlation-Id", $"corr-{marker}");
        using var response = await auth.Http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var run = await RecordingJob.WaitForAsync(marker);
        run.Role.ShouldBe(ProcessRole.All);
        var logged = await WaitForLogAsync(app, entry => entry.Message.Contains($"Recording job ran {marker}", StringComparison.Ordinal));
        logged.Scope[JobContext.CorrelationIdParameter].ShouldBe($"corr-{marker}");
        logged.Scope[JobContext.UserIdParameter].ShouldBe(signedIn.User.Id.ToString());
    }

    [Fact]
    public async Task An_api_process_only_enqueues_and_a_worker_process_runs_the_job()
    {
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?> { ["Role"] = "api" });
        var marker = Guid.NewGuid().ToString("N");
        api.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<RecordingJob>(job => job.Run(marker));
        await Task.Delay(1500, Cancel);
        RecordingJob.Runs.ShouldNotContain(run => run.Marker == marker, "the api role runs no jobs");

        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?> { ["Role"] = "worker" });
        (await RecordingJob.WaitForAsync(marker)).Role.ShouldBe(ProcessRole.Worker);
    }

    [Fact]
    public async Task Jobs_still_run_after_another_host_in_the_same_process_stopped()
    {
        await using var staying = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        // Started last, so Hangfire's process-wide logging would point at its logger factory, then disposed with it.
        var leaving = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        await leaving.DisposeAsync();

        var marker = Guid.NewGuid().ToString("N");
        staying.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<RecordingJob>(job => job.Run(marker));
        (await RecordingJob.WaitForAsync(marker)).Role.ShouldBe(ProcessRole.All);
    }

    [Fact]
    public async Task The_embedded_shape_keeps_its_jobs_across_a_restart()
    {
        var connectionString = TestDatabases.CreateSqlite();
        var marker = Guid.NewGuid().ToString("N");
        await using (var before = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString, new Dictionary<string, string?> { ["Role"] = "api" }))
        {
            before.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<RecordingJob>(job => job.Run(marker));
        }

        await using var after = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString);
        (await RecordingJob.WaitForAsync(marker)).Role.ShouldBe(ProcessRole.All);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_hourly_reconciliation_is_scheduled_and_reports_a_drift_as_critical(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("drifter@example.com")).User.Id;
        var books = new WalletBooks(app);
        await books.PostAsync(user, 10, "bonus", LedgerEntryKind.SignupBonus);
        var manager = app.Services.GetRequiredService<IRecurringJobManagerV2>();

        manager.TriggerJob("ledger-reconciliation");
        await WaitForLogAsync(app, entry => entry.Message.StartsWith("Ledger reconciled", StringComparison.Ordinal));

        await books.WithDbAsync(db => db.Wallets.Where(wallet => wallet.UserId == user)
            .ExecuteUpdateAsync(set => set.SetProperty(wallet => wallet.Balance, 11L), Cancel));
        manager.TriggerJob("ledger-reconciliation");
        var drift = await WaitForLogAsync(app, entry => entry.Level == LogLevel.Critical && entry.Message.Contains(user.ToString(), StringComparison.Ordinal));
        drift.Message.ShouldContain("has balance 11 and its entries sum to 10");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Idempotency_keys_are_kept_a_day_then_removed_by_the_hourly_cleanup(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("forgetful@example.com")).User.Id;
        var books = new WalletBooks(app);
        var now = DateTimeOffset.UtcNow;
        await books.WithDbAsync(async db =>
        {
            db.IdempotencyRecords.AddRange(
                new IdempotencyRecord { UserId = user, Key = "day-old", RequestHash = new byte[32], StartedAt = now - TimeSpan.FromHours(25), CompletedAt = now - TimeSpan.FromHours(25), StatusCode = 201 },
                new IdempotencyRecord { UserId = user, Key = "recent", RequestHash = new byte[32], StartedAt = now - TimeSpan.FromHours(23), CompletedAt = now - TimeSpan.FromHours(23), StatusCode = 201 });
            return await db.SaveChangesAsync(Cancel);
        });

        app.Services.GetRequiredService<IRecurringJobManagerV2>().TriggerJob("idempotency-cleanup");
        await WaitForLogAsync(app, entry => entry.Message.StartsWith("Idempotency-Keys: 1 older than 24 h removed", StringComparison.Ordinal));
        (await books.WithDbAsync(db => db.IdempotencyRecords.Where(record => record.UserId == user).Select(record => record.Key).ToListAsync(Cancel)))
            .ShouldBe(["recent"]);
    }

    private static async Task<CapturedLogs.LogEntry> WaitForLogAsync(RootApp app, Func<CapturedLogs.LogEntry, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (app.Logs.Entries.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException("The expected log line did not appear within 60 s.");
            }

            await Task.Delay(50, Cancel);
        }
    }
}

/// <summary>A job of the tests' own: records which process ran it, and logs inside the job's scope.</summary>
public sealed partial class RecordingJob(RuntimeShape shape, ILogger<RecordingJob> logger)
{
    public static ConcurrentQueue<(string Marker, ProcessRole Role)> Runs { get; } = new();

    public Task Run(string marker)
    {
        Runs.Enqueue((marker, shape.Role));
        LogRan(logger, marker);
        return Task.CompletedTask;
    }

    public static async Task<(string Marker, ProcessRole Role)> WaitForAsync(string marker)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Runs.Any(run => run.Marker == marker))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException($"Job {marker} did not run within 60 s.");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return Runs.First(run => run.Marker == marker);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording job ran {Marker}")]
    private static partial void LogRan(ILogger logger, string marker);
}
