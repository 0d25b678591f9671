using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// A worker process (the real binary) stopped with SIGTERM while its job waits on the AI provider: past
/// <c>Jobs__ShutdownTimeoutSeconds</c> the job is cancelled and handed back, another worker finishes it at once (not after
/// the invisibility timeout, nor once the claim is stale), and the generation is charged once and ends once.
/// </summary>
public sealed class WorkerStopTests(PostgresServer postgres, SmtpServer smtp)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000), Long]
    public async Task A_generation_whose_worker_is_stopped_mid_job_is_handed_back_and_finished_at_once_by_another_charged_once()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = AiBehaviour.Hang;
        // Longer than anything before the signal may take on a busy machine: the call ends only when the stopping worker cancels it.
        ai.HangTime = TimeSpan.FromMinutes(5);
        // The invisibility timeout (30 min) and the claim's staleness (15 min) as shipped: neither can be what rescues the job.
        var settings = new Dictionary<string, string?>(ai.Settings)
        {
            ["Ai:TimeoutSeconds"] = "300",
            ["Throttling:Rates:user:free"] = "unlimited",
        };
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "worker_stop");
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "api" });
        var signedIn = await new AuthClient(api).SignInAsync("handed-back@example.com");
        var books = new WalletBooks(api);
        await books.PostAsync(signedIn.User.Id, 3, "grant", LedgerEntryKind.Adjustment);

        var environment = RootProcess.ProductionEnvironment(connectionString, smtp, new Dictionary<string, string?>(settings)
        {
            ["Role"] = "worker",
            ["Jobs:ShutdownTimeoutSeconds"] = "2",
        });
        await using var stopping = RootProcess.Start(["--Urls", RootProcess.FreeLoopbackUrl()], environment, RootProcess.ScratchDirectory("apptork-worker-stop-"));
        var client = new GenerationClient(api, signedIn.AccessToken);
        var created = await client.CreateOkAsync("text", "finish me elsewhere");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (ai.Calls.IsEmpty)
        {
            (stopping.HasExited || DateTime.UtcNow > deadline).ShouldBeFalse($"The worker never called the provider:\n{stopping.Output}");
            await Task.Delay(50, Cancel);
        }

        // A second worker is up before the signal.
        await using var other = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>(settings) { ["Role"] = "worker" });
        (await client.GetAsync(created.Id)).Status.ShouldBe("running", stopping.Output);

        stopping.SendTerminate();
        // The provider answers from now on (the stopping worker's call, under way for seconds, keeps hanging): the job
        // reaches the other worker only once the stopping one hands it back, Jobs__ShutdownTimeoutSeconds later.
        ai.Behaviour = AiBehaviour.Answer;
        using (var exitDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            var exit = await stopping.WaitForExitAsync(exitDeadline.Token);
            exit.ExitCode.ShouldBe(0, exit.Output);
            exit.Output.ShouldContain($"Generation {created.Id} handed back", customMessage: exit.Output);
        }

        // Seconds, where the invisibility timeout or the staleness would take many minutes.
        var finished = await client.WaitAsync(created.Id, "succeeded", TimeSpan.FromSeconds(30));
        finished.ResultText.ShouldBe("Local answer to: finish me elsewhere");

        var generation = await books.WithDbAsync(db => db.Generations.AsNoTracking().SingleAsync(Cancel));
        // The stopped run is not counted as an attempt: only the provider failing spends one.
        (generation.Status, generation.Attempts).ShouldBe((GenerationStatus.Succeeded, 1));
        ai.Calls.Count.ShouldBe(2);
        // Put back in the queue as it was, never failed nor scheduled for a retry: taken from the queue again, and run to its end.
        // Hangfire records Succeeded only after the job method (which ended the generation) returns: wait for it.
        Task<List<string>> GenerationJobStatesAsync() => books.WithDbAsync(db => db.Database.SqlQuery<string>(
            $"SELECT s.name AS \"Value\" FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid WHERE j.invocationdata::text LIKE '%GenerationJob%' ORDER BY s.id").ToListAsync(Cancel));
        var states = await GenerationJobStatesAsync();
        for (var statesDeadline = DateTime.UtcNow.AddSeconds(15); states.Count < 4 && DateTime.UtcNow < statesDeadline; states = await GenerationJobStatesAsync())
        {
            await Task.Delay(100, Cancel);
        }

        states.ShouldBe(["Enqueued", "Processing", "Processing", "Succeeded"]);
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(3L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation)]);
        await books.ShouldAddUpAsync(signedIn.User.Id, 2);
    }
}
