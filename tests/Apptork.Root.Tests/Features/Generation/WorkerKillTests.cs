using System.Net;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// A worker process (the real binary) SIGKILLed halfway through the provider's streamed answer: another worker takes the
/// job over once it is stale, and the generation ends exactly once, charged once and never refunded; the client following
/// it sees the pieces so far, a <c>restarted</c> event, then the whole answer, which is the one stored. And one SIGKILLed
/// between the charge and the release of a usage-priced generation's hold: both roll back, and the rescue settles once.
/// </summary>
public sealed class WorkerKillTests(PostgresServer postgres, SmtpServer smtp, S3Server s3, RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A deadline beyond the rescue's own patience (three minutes), so a stall fails the run instead of hanging it.</summary>
    [Fact(Timeout = 360_000), Long]
    public async Task A_generation_whose_worker_is_killed_mid_job_ends_once_charged_once_refunded_never()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.HoldAfterWords = 3;
        var settings = Settings(ai, new Dictionary<string, string?> { ["Ai:TimeoutSeconds"] = "25", ["Generation:StaleAfterSeconds"] = "30" });
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "worker_kill");
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "api" });
        var signedIn = await new AuthClient(api).SignInAsync("survivor@example.com");
        var books = new WalletBooks(api);
        await books.PostAsync(signedIn.User.Id, 3, "grant", LedgerEntryKind.Adjustment);

        var environment = WorkerEnvironment(connectionString, settings);
        var client = new GenerationClient(api, signedIn.AccessToken);
        Task<List<GenerationClient.StreamEvent>>? following = null;
        await using (var doomed = RootProcess.Start(["--Urls", RootProcess.FreeLoopbackUrl()], environment, RootProcess.ScratchDirectory("apptork-worker-")))
        {
            var created = await client.CreateOkAsync("text", "survive this");
            var followed = new GenerationClient.Received();
            following = client.EventsAsync(created.Id, followed.Add);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!ai.Held.Task.IsCompleted || followed.Deltas < 3)
            {
                (doomed.HasExited || DateTime.UtcNow > deadline).ShouldBeFalse($"The worker's streamed answer never reached the client:\n{doomed.Output}");
                await Task.Delay(50, Cancel);
            }

            (await client.GetAsync(created.Id)).Status.ShouldBe("running");
            await doomed.KillAsync();

            // The provider answers whole from now on; another worker finds the job of the dead one.
            ai.HoldAfterWords = null;
            await using var rescuer = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "worker" });
            var current = await RescuedAsync(rescuer, client, created.Id);
            current.ResultText.ShouldBe("Local answer to: survive this");
        }

        var events = await following!;
        var words = LocalOpenAi.AnswerWords("Local answer to: survive this");
        events.Where(item => item.Type is "delta" or "restarted").Select(item => item.Delta?.Text ?? "(restarted)")
            .ShouldBe([.. words.Take(3), "(restarted)", .. words]);
        events[^1].Generation!.Status.ShouldBe("succeeded");
        GenerationClient.TextOf(events).ShouldBe(events[^1].Generation!.ResultText);

        var generation = await books.WithDbAsync(db => db.Generations.AsNoTracking().SingleAsync(Cancel));
        (generation.Status, generation.Attempts).ShouldBe((GenerationStatus.Succeeded, 2));
        ai.Calls.Count.ShouldBe(2);
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(3L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation)]);
        await books.ShouldAddUpAsync(signedIn.User.Id, 2);
    }

    [Fact(Timeout = 300_000), Long]
    public async Task A_worker_killed_between_charging_and_releasing_a_hold_leaves_one_charge_and_one_release_after_its_rescue()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.ReportedUsage = _ => (100, 200);
        var settings = Settings(ai, new Dictionary<string, string?>
        {
            ["Generation:StaleAfterSeconds"] = "10",
            ["Generation:Pricing"] = "Usage",
            ["Generation:Prices:local-text:InputPer1000Tokens"] = "10",
            ["Generation:Prices:local-text:OutputPer1000Tokens"] = "20",
        });
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "hold_kill");
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "api" });
        var signedIn = await new AuthClient(api).SignInAsync("settled@example.com");
        var books = new WalletBooks(api);
        await books.PostAsync(signedIn.User.Id, 100, "grant", LedgerEntryKind.Adjustment);
        await using var database = new NpgsqlConnection(connectionString);
        await database.OpenAsync(Cancel);
        // The worker's release stalls inside its transaction, after the charge: the moment to kill it. The database
        // notices the dead client within half a second (in production, TCP keepalives do, later) and rolls back.
        await ExecuteAsync(database, """
            DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET client_connection_check_interval = %L', current_database(), '500ms'); END $$;
            CREATE FUNCTION stall_release() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN IF NEW.kind = 'release' THEN PERFORM pg_sleep(300); END IF; RETURN NEW; END $f$;
            CREATE TRIGGER tr_stall_release BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION stall_release();
            """);

        var client = new GenerationClient(api, signedIn.AccessToken);
        GenerationClient.View created;
        await using (var doomed = RootProcess.Start(["--Urls", RootProcess.FreeLoopbackUrl()], WorkerEnvironment(connectionString, settings), RootProcess.ScratchDirectory("apptork-worker-")))
        {
            created = await client.CreateOkAsync("text", "settle this", new { max_output_tokens = 1000 });
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (await StalledReleasesAsync(database) == 0)
            {
                (doomed.HasExited || DateTime.UtcNow > deadline).ShouldBeFalse($"The worker never reached the release:\n{doomed.Output}");
                await Task.Delay(50, Cancel);
            }

            await doomed.KillAsync();
        }

        var patience = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await StalledReleasesAsync(database) > 0)
        {
            (DateTime.UtcNow < patience).ShouldBeTrue("The killed worker's transaction was never rolled back");
            await Task.Delay(100, Cancel);
        }

        await ExecuteAsync(database, "DROP TRIGGER tr_stall_release ON ledger_entries;");
        // Nothing of the killed run's end survived: the generation still runs on its first attempt, held, uncharged.
        (await client.GetAsync(created.Id)).ShouldSatisfyAllConditions(
            view => view.Status.ShouldBe("running"), view => view.Cost.ShouldBe(0), view => view.Held.ShouldBe(created.Held));
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => entry.Kind).ShouldBe([LedgerEntryKind.Adjustment, LedgerEntryKind.Hold]);

        var charge = (long)Math.Ceiling((100 * 10 + 200 * 20) / 1000.0);
        await using (var rescuer = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "worker" }))
        {
            var done = await RescuedAsync(rescuer, client, created.Id);
            (done.Cost, done.Held).ShouldBe((charge, 0L));
        }

        // The killed run's call and the rescue's; on a loaded machine a rescue slower than the stale time is taken over
        // once more, and its claim still lets only one run end the generation.
        ai.Calls.Count.ShouldBeInRange(2, 3);
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Kind, entry.Amount, entry.HeldChange)).ShouldBe([
            (LedgerEntryKind.Adjustment, 100L, 0L), (LedgerEntryKind.Hold, 0L, created.Held),
            (LedgerEntryKind.Generation, -charge, -charge), (LedgerEntryKind.Release, 0L, charge - created.Held),
        ]);
        await books.ShouldAddUpAsync(signedIn.User.Id, 100 - charge);
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    /// <summary>The local provider's settings, Redis and S3, and what a test shortens so a dead worker's job is taken over in seconds.</summary>
    private Dictionary<string, string?> Settings(LocalOpenAi ai, IReadOnlyDictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>(ai.Settings)
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"worker-kill-{Guid.NewGuid():N}:",
            ["Jobs:InvisibilityTimeoutSeconds"] = "10",
            ["Throttling:Rates:user:free"] = "unlimited",
        };
        foreach (var (key, value) in s3.Settings.Concat(overrides))
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The worker binary's environment, in the production shape.</summary>
    private Dictionary<string, string> WorkerEnvironment(string connectionString, Dictionary<string, string?> settings)
    {
        var environment = RootProcess.ProductionEnvironment(connectionString, smtp, new Dictionary<string, string?>(settings) { ["Role"] = "worker" });
        environment["AWS_ACCESS_KEY_ID"] = s3.AccessKey;
        environment["AWS_SECRET_ACCESS_KEY"] = s3.SecretKey;
        return environment;
    }

    /// <summary>
    /// The generation once the rescuer finished it. Hangfire hands the dead worker's job on after its invisibility
    /// timeout; the recovery sweep (every 5 minutes, triggered here every few seconds) enqueues it too. Whichever comes
    /// first claims it, once.
    /// </summary>
    private static async Task<GenerationClient.View> RescuedAsync(RootApp rescuer, GenerationClient client, Guid id)
    {
        var recovery = rescuer.Services.GetRequiredService<IRecurringJobManagerV2>();
        var patience = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        GenerationClient.View current;
        while ((current = await client.GetAsync(id)).Status != "succeeded")
        {
            current.Status.ShouldBeOneOf(["queued", "running"]);
            (DateTime.UtcNow < patience).ShouldBeTrue(
                $"Generation {id} was still {current.Status}; the rescuer logged:\n{string.Join('\n', rescuer.Logs.Entries.Where(entry => entry.Level >= LogLevel.Warning).Select(entry => entry.Message))}");
            recovery.TriggerJob("generation-recovery");
            await Task.Delay(3000, Cancel);
        }

        return current;
    }

    private static async Task<long> StalledReleasesAsync(NpgsqlConnection database)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'", database);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection database, string sql)
    {
        await using var command = new NpgsqlCommand(sql, database);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
