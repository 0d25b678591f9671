using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// The generation's job is owed in the transaction that creates it (the dispatch outbox): a process dying before the job
/// is in Hangfire leaves it to any other process's dispatcher, and two dispatchers never both enqueue it. With Redis, the
/// worker processes enqueue what an api process creates, woken by its announcement.
/// </summary>
public sealed class GenerationDispatchTests(PostgresServer postgres, SmtpServer smtp, RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180_000), Long]
    public async Task A_generation_whose_api_process_dies_before_its_job_is_enqueued_is_run_once_by_another_process_within_seconds()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = new Dictionary<string, string?>(ai.Settings) { ["Throttling:Rates:user:free"] = "unlimited" };
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "dispatch_crash");
        // Signs in and keeps the books; it sweeps only at its start, so only the processes below dispatch.
        await using var books = await RootApp.StartOnAsync(
            DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "api", ["Generation:DispatchSweepSeconds"] = "3600" });
        var signedIn = await new AuthClient(books).SignInAsync("outlived@example.com");
        var wallet = new WalletBooks(books);
        await wallet.PostAsync(signedIn.User.Id, 3, "grant", LedgerEntryKind.Adjustment);

        // Hangfire's job table held: the doomed process commits the generation and answers, but its dispatcher hangs
        // inside its first enqueue, the generation's outbox row locked, until the process is killed there.
        await using var holder = new NpgsqlConnection(connectionString);
        await holder.OpenAsync(Cancel);
        var hold = await holder.BeginTransactionAsync(Cancel);
        await new NpgsqlCommand("LOCK TABLE hangfire.job IN EXCLUSIVE MODE", holder, hold).ExecuteNonQueryAsync(Cancel);

        var url = RootProcess.FreeLoopbackUrl();
        var environment = RootProcess.ProductionEnvironment(connectionString, smtp, new Dictionary<string, string?>(settings) { ["Role"] = "api" });
        Guid generationId;
        await using (var doomed = RootProcess.Start(["--Urls", url], environment, RootProcess.ScratchDirectory("apptork-doomed-api-")))
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", signedIn.AccessToken);
            generationId = await CreateWhenServingAsync(http, doomed);
            await WaitUntilAsync(async () => await ScalarAsync(connectionString, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") >= 1, "the doomed dispatcher waits on the job table", doomed);
            await doomed.KillAsync();
        }

        await hold.CommitAsync(Cancel);
        var killed = DateTime.UtcNow;
        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "worker" });
        await WaitUntilAsync(
            async () => await wallet.WithDbAsync(db => db.Generations.AnyAsync(generation => generation.Id == generationId && generation.Status == GenerationStatus.Succeeded, Cancel)),
            "the generation succeeded", process: null);
        (DateTime.UtcNow - killed).ShouldBeLessThan(TimeSpan.FromSeconds(30));

        var generation = await wallet.WithDbAsync(db => db.Generations.AsNoTracking().SingleAsync(Cancel));
        generation.Attempts.ShouldBe(1);
        ai.Calls.Count.ShouldBe(1);
        (await wallet.WithDbAsync(db => db.UndispatchedGenerations.CountAsync(Cancel))).ShouldBe(0);
        (await wallet.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(3L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation)]);
        await wallet.ShouldAddUpAsync(signedIn.User.Id, 2);
    }

    [Fact(Timeout = 180_000), Long]
    public async Task Two_processes_sweeping_the_same_backlog_enqueue_each_generation_once()
    {
        const int Backlog = 300;
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "dispatch_race");
        var quiet = new Dictionary<string, string?> { ["Role"] = "api", ["Generation:DispatchSweepSeconds"] = "3600" };
        List<Guid> owed;
        Guid user;
        await using (var seeder = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, quiet))
        {
            // As processes that died after their commits leave them: generations whose jobs are owed, none enqueued.
            user = (await new AuthClient(seeder).SignInAsync("backlog@example.com")).User.Id;
            owed = await new WalletBooks(seeder).WithDbAsync(async db =>
            {
                var now = DateTimeOffset.UtcNow;
                var generations = Enumerable.Range(0, Backlog).Select(index => new Apptork.Root.Features.Generation.Generation
                {
                    Id = Guid.CreateVersion7(now), UserId = user, Type = GenerationType.Text, Prompt = $"owed {index}", Status = GenerationStatus.Queued, Cost = 1,
                    CreatedAt = now, UpdatedAt = now,
                }).ToList();
                db.Generations.AddRange(generations);
                db.UndispatchedGenerations.AddRange(generations.Select(generation => new UndispatchedGeneration { GenerationId = generation.Id, UserId = user }));
                await db.SaveChangesAsync(Cancel);
                return generations.Select(generation => generation.Id).ToList();
            });
        }

        // Both sweep at their start, at the same moment; neither runs the jobs, whose retries would be jobs of their own.
        var starting = Enumerable.Range(0, 2).Select(_ => RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?> { ["Role"] = "api" })).ToList();
        await using var first = await starting[0];
        await using var second = await starting[1];
        await WaitUntilAsync(async () => await ScalarAsync(connectionString, "SELECT count(*) FROM undispatched_generations") == 0, "the backlog is dispatched", process: null);

        var enqueued = new List<string>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(Cancel);
            // Each job carries its generation's user into its log lines, as a job enqueued by the request would.
            (await new NpgsqlCommand($"SELECT count(*) FROM hangfire.jobparameter WHERE name = 'UserId' AND value LIKE '%{user}%'", connection).ExecuteScalarAsync(Cancel))
                .ShouldBe((long)Backlog);
            await using var reader = await new NpgsqlCommand("SELECT arguments::text FROM hangfire.job WHERE invocationdata::text LIKE '%GenerationJob%'", connection).ExecuteReaderAsync(Cancel);
            while (await reader.ReadAsync(Cancel))
            {
                enqueued.Add(reader.GetString(0));
            }
        }

        enqueued.Count.ShouldBe(Backlog);
        owed.ShouldAllBe(id => enqueued.Count(arguments => arguments.Contains(id.ToString(), StringComparison.OrdinalIgnoreCase)) == 1);
    }

    [Fact(Timeout = 180_000), Long]
    public async Task With_redis_an_api_process_leaves_the_enqueue_to_the_workers_whom_its_announcement_wakes()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = new Dictionary<string, string?>(ai.Settings)
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"dispatch-{Guid.NewGuid():N}:",
            // Sweeping only at their start: only the announcement can wake them after that.
            ["Generation:DispatchSweepSeconds"] = "3600",
        };
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "dispatch_announced");
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "api" });
        var signedIn = await new AuthClient(api).SignInAsync("announced@example.com");
        var wallet = new WalletBooks(api);
        await wallet.PostAsync(signedIn.User.Id, 2, "grant", LedgerEntryKind.Adjustment);
        var generations = new GenerationClient(api, signedIn.AccessToken);

        // No worker yet: the api process commits and answers, and the job stays owed, not enqueued by the api.
        var waiting = await generations.CreateOkAsync("text", "wait for a worker");
        await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM undispatched_generations")).ShouldBe(1);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM hangfire.job")).ShouldBe(0);

        // A worker starting sweeps the owed job up; one created after its start reaches it by the announcement alone.
        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "worker" });
        await generations.WaitAsync(waiting.Id, "succeeded", TimeSpan.FromSeconds(30));
        var announced = await generations.CreateOkAsync("text", "announced");
        await generations.WaitAsync(announced.Id, "succeeded", TimeSpan.FromSeconds(30));

        ai.Calls.Count.ShouldBe(2);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM undispatched_generations")).ShouldBe(0);
        await wallet.ShouldAddUpAsync(signedIn.User.Id, 0);
    }

    private static async Task<Guid> CreateWhenServingAsync(HttpClient http, RootProcess.Running process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            process.HasExited.ShouldBeFalse(process.Output);
            DateTime.UtcNow.ShouldBeLessThan(deadline, process.Output);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/generations")
                {
                    Content = System.Net.Http.Json.JsonContent.Create(new { type = "text", prompt = "outlive this" }),
                };
                request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
                using var response = await http.SendAsync(request, Cancel);
                response.StatusCode.ShouldBe(System.Net.HttpStatusCode.Accepted, process.Output);
                return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<GenerationClient.View>(response.Content, TestJson.Options, Cancel))!.Id;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
                await Task.Delay(200, Cancel);
            }
        }
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        return Convert.ToInt64(await new NpgsqlCommand(sql, connection).ExecuteScalarAsync(Cancel), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, RootProcess.Running? process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"Waited in vain until {what}.\n{process?.Output}");
            await Task.Delay(100, Cancel);
        }
    }
}
