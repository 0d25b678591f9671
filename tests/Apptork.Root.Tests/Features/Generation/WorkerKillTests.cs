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
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// A worker process (the real binary) SIGKILLed halfway through the provider's streamed answer: another worker takes the
/// job over once it is stale, and the generation ends exactly once, charged once and never refunded; the client following
/// it sees the pieces so far, a <c>restarted</c> event, then the whole answer, which is the one stored.
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
        var settings = new Dictionary<string, string?>(ai.Settings)
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"worker-kill-{Guid.NewGuid():N}:",
            ["Ai:TimeoutSeconds"] = "25",
            // Shortened for the test: a dead worker's job is taken over after these, instead of minutes.
            ["Jobs:InvisibilityTimeoutSeconds"] = "10",
            ["Generation:StaleAfterSeconds"] = "30",
            ["Throttling:Rates:user:free"] = "unlimited",
        };
        foreach (var (key, value) in s3.Settings)
        {
            settings[key] = value;
        }

        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "worker_kill");
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "api" });
        var signedIn = await new AuthClient(api).SignInAsync("survivor@example.com");
        var books = new WalletBooks(api);
        await books.PostAsync(signedIn.User.Id, 3, "grant", LedgerEntryKind.Adjustment);

        var environment = RootProcess.ProductionEnvironment(connectionString, smtp, new Dictionary<string, string?>(settings) { ["Role"] = "worker" });
        environment["AWS_ACCESS_KEY_ID"] = s3.AccessKey;
        environment["AWS_SECRET_ACCESS_KEY"] = s3.SecretKey;

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
            // Hangfire hands the dead worker's job on after its invisibility timeout; the recovery sweep (every 5 minutes,
            // triggered here every few seconds) enqueues it too. Whichever comes first claims it, once.
            var recovery = rescuer.Services.GetRequiredService<IRecurringJobManagerV2>();
            var patience = DateTime.UtcNow + TimeSpan.FromSeconds(180);
            GenerationClient.View current;
            while ((current = await client.GetAsync(created.Id)).Status != "succeeded")
            {
                current.Status.ShouldBeOneOf(["queued", "running"]);
                (DateTime.UtcNow < patience).ShouldBeTrue(
                    $"Generation {created.Id} was still {current.Status}; the rescuer logged:\n{string.Join('\n', rescuer.Logs.Entries.Where(entry => entry.Level >= LogLevel.Warning).Select(entry => entry.Message))}");
                recovery.TriggerJob("generation-recovery");
                await Task.Delay(3000, Cancel);
            }

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
}
