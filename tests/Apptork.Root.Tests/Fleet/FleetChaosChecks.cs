using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Fleet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Fleet;

/// <summary>
/// A fleet for the chaos checks, with an AI provider that can be made slow or made to fail some prompts, and the
/// timings a crash's recovery waits on shortened from minutes to seconds, so each check takes under a minute.
/// </summary>
public sealed class ChaosFleet(PostgresServer postgres, RedisServer redis, S3Server s3, SmtpServer smtp) : IAsyncLifetime
{
    /// <summary>Every account's signup bonus: the bank test's users spend from it, and get refunds back into it.</summary>
    public const long Bonus = 300;

    /// <summary>A prompt that starts with it fails at the provider: its generation fails at once and is refunded.</summary>
    public const string FailingPrompt = "refund me";

    public RootFleet Fleet { get; private set; } = null!;

    public LocalOpenAi Ai { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Ai = await LocalOpenAi.StartAsync();
        Ai.FailingPromptPrefix = FailingPrompt;
        var settings = new Dictionary<string, string?>(Ai.Settings)
        {
            // Above the slowest call a check makes (8 s), below the staleness after which another worker takes a generation over.
            ["Ai:TimeoutSeconds"] = "10",
            ["Generation:StaleAfterSeconds"] = "15",
            // The provider's failure is final at once: refunds come back while the bank test runs, not after backoffs.
            ["Generation:MaxAttempts"] = "1",
            // A killed worker's job is found again after 10 s instead of 30 min; a stopping worker hands its job back after 2 s.
            ["Jobs:InvisibilityTimeoutSeconds"] = "10",
            ["Jobs:ShutdownTimeoutSeconds"] = "2",
            ["Shutdown:DrainSeconds"] = "2",
            ["Wallet:SignupBonus"] = Bonus.ToString(CultureInfo.InvariantCulture),
            // Every account comes from one loopback address, and the clients spend as fast as they can.
            ["Fraud:Registration:MaxPerIp"] = "10000",
            ["Throttling:Rates:anon:anonymous"] = "unlimited",
            ["Throttling:Rates:otp:anonymous"] = "unlimited",
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Throttling:Rates:ai_generation:free"] = "unlimited",
        };
        Fleet = await RootFleet.StartAsync(new FleetServers(postgres, redis, s3, smtp), new FleetOptions { Name = "fleet_chaos", Settings = settings });
    }

    public async ValueTask DisposeAsync()
    {
        if (Fleet is not null)
        {
            await Fleet.DisposeAsync();
        }

        if (Ai is not null)
        {
            await Ai.DisposeAsync();
        }
    }
}

/// <summary>
/// The fleet's processes killed (SIGKILL) and stopped (SIGTERM) while clients use it through the proxy: the books stay
/// exact, every generation ends once and is charged once, and a graceful stop loses no request and hands its job back.
/// Each check leaves every process running again.
/// </summary>
[Long]
public sealed class FleetChaosTests(ChaosFleet fixture) : IClassFixture<ChaosFleet>
{
    private const int BankUsers = 16;
    private const int BankClients = 64;

    private readonly RootFleet fleet = fixture.Fleet;
    private readonly LocalOpenAi ai = fixture.Ai;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private sealed record User(Guid Id, string AccessToken);

    private sealed record Answer(HttpStatusCode Status, string Body, string? Upstream);

    private sealed record GenerationRow(Guid Id, Guid UserId, string? IdempotencyKey, string Prompt, string Status, int Attempts, string? ResultText);

    private sealed record EntryRow(Guid UserId, long Amount, string Kind, string IdempotencyKey);

    /// <summary>A deadline, so that a stall fails the run instead of hanging it; the check takes about a minute.</summary>
    [Fact(Timeout = 300_000)]
    public async Task The_bank_test_through_the_proxy_loses_and_duplicates_nothing_while_a_worker_and_an_api_are_killed()
    {
        ai.Delay = TimeSpan.Zero;
        var started = Stopwatch.StartNew();
        using var http = fleet.ClientFrom("127.0.0.21");
        var users = await Task.WhenAll(Enumerable.Range(0, BankUsers).Select(index => SignInAsync("127.0.0.21", $"bank-{index}-{Guid.NewGuid():N}@example.com")));
        var acknowledged = new ConcurrentDictionary<(Guid User, string Key), (string Prompt, string Answer)>();
        var recent = new ConcurrentQueue<(User User, string Key)>();
        var unresolved = new ConcurrentBag<(Guid User, string Key)>();
        var unexpected = new ConcurrentQueue<string>();
        int refused = 0, lostAnswers = 0, replays = 0, replaysNotKept = 0, operations = 0;
        var seed = TestSeed.Next();

        using var stop = new CancellationTokenSource();
        var (worker, api) = (fleet.Workers[0], fleet.Apis[1]);
        var clock = Stopwatch.StartNew();
        var chaos = Task.Run(async () =>
        {
            // Each process is started again at once, as an orchestrator would, while the clients keep going.
            await Task.Delay(TimeSpan.FromSeconds(3), Cancel);
            await worker.KillAsync();
            var workerBack = worker.RestartAsync();
            await Task.Delay(TimeSpan.FromSeconds(3), Cancel);
            await api.KillAsync();
            var apiBack = api.RestartAsync();
            Note($"killed at {clock.Elapsed.TotalSeconds:0.0} s");
            // Long enough for the requests the api took with it to be asked again and answered.
            await Task.Delay(TimeSpan.FromSeconds(4), Cancel);
            await stop.CancelAsync();
            await Task.WhenAll(workerBack, apiBack);
            Note($"restarted at {clock.Elapsed.TotalSeconds:0.0} s");
        }, Cancel);

        Note($"{users.Length} users signed in in {started.Elapsed.TotalSeconds:0.0} s");
        await Task.WhenAll(Enumerable.Range(0, BankClients).Select(client => Task.Run(async () =>
        {
            var random = new Random(seed + client);
            while (!stop.IsCancellationRequested && clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                Interlocked.Increment(ref operations);
                var user = users[random.Next(users.Length)];
                var roll = random.Next(100);
                if (roll < 70)
                {
                    var key = Guid.NewGuid().ToString("N");
                    // One in five fails at the provider: its refund is the credit that comes back while others spend.
                    var prompt = roll < 14 ? $"{ChaosFleet.FailingPrompt} {key}" : $"bank {key}";
                    var (answer, lost) = await CreateUntilAnsweredAsync(http, user, key, prompt);
                    Interlocked.Add(ref lostAnswers, lost);
                    switch (answer?.Status)
                    {
                        case HttpStatusCode.Accepted:
                            acknowledged[(user.Id, key)] = (prompt, answer.Body);
                            recent.Enqueue((user, key));
                            break;
                        case HttpStatusCode.PaymentRequired:
                            Interlocked.Increment(ref refused);
                            break;
                        case HttpStatusCode.Conflict:
                            // Claimed by the killed api, whose claim lapses only after minutes: its effect is checked below, at most once.
                            unresolved.Add((user.Id, key));
                            break;
                        default:
                            unexpected.Enqueue($"create: {answer?.Status} {answer?.Body}");
                            break;
                    }
                }
                else if (roll < 85 && recent.ToArray() is { Length: > 0 } earlier)
                {
                    var (owner, key) = earlier[random.Next(earlier.Length)];
                    var first = acknowledged[(owner.Id, key)];
                    var (answer, lost) = await CreateUntilAnsweredAsync(http, owner, key, first.Prompt);
                    Interlocked.Add(ref lostAnswers, lost);
                    Interlocked.Increment(ref replays);
                    // The kept answer; or the claim of a request the killed api never finished, in progress until it
                    // expires (as documented); or a run again that finds the first generation. Never another effect.
                    if (answer?.Status == HttpStatusCode.Conflict || (answer?.Status == HttpStatusCode.Accepted && answer.Body != first.Answer && IdOf(answer.Body) == IdOf(first.Answer)))
                    {
                        Interlocked.Increment(ref replaysNotKept);
                    }
                    else if (answer?.Status != HttpStatusCode.Accepted || answer.Body != first.Answer)
                    {
                        unexpected.Enqueue($"replay: {answer?.Status} {answer?.Body}, first answer {first.Answer}");
                    }
                }
                else
                {
                    // A GET the killed api was serving is passed by the proxy to the next one: it never fails.
                    var answer = await SendAsync(http, HttpMethod.Get, "/api/v1/wallet", user);
                    if (answer?.Status != HttpStatusCode.OK)
                    {
                        unexpected.Enqueue($"wallet: {answer?.Status} {answer?.Body}");
                    }
                }
            }
        }, Cancel)));
        await chaos;

        Note(
            $"fleet bank test: {operations} operations by {BankClients} clients in {clock.Elapsed.TotalSeconds:0.0} s; {acknowledged.Count} generations accepted, "
            + $"{replays} replays ({replaysNotKept} of answers Redis did not keep), {refused} refused for funds, {lostAnswers} answers lost to the kill and retried, {unresolved.Count} left claimed by the killed api");
        unexpected.ShouldBeEmpty(string.Join('\n', unexpected.Take(5)) + "\n" + fleet.DescribeProcesses());
        acknowledged.Count.ShouldBeGreaterThan(BankClients);

        var userIds = users.Select(user => user.Id).ToArray();
        // A create whose api was killed between its commit and its enqueue is left queued for the recovery sweep.
        var generations = await UntilEndedAsync(userIds, TimeSpan.FromSeconds(90), recoverLostJobs: true);
        Note($"every generation ended at {clock.Elapsed.TotalSeconds:0.0} s");

        // Each accepted request's generation exists once, the one its answer named; none exists that no request accounts for.
        var byKey = generations.ToDictionary(generation => (generation.UserId, generation.IdempotencyKey!));
        foreach (var ((user, key), (prompt, answer)) in acknowledged)
        {
            byKey.TryGetValue((user, key), out var generation).ShouldBeTrue($"the accepted generation of key {key} is missing");
            generation!.Id.ShouldBe(IdOf(answer));
            generation.Prompt.ShouldBe(prompt);
        }

        var accountedFor = acknowledged.Keys.Concat(unresolved).ToHashSet();
        byKey.Keys.Where(key => !accountedFor.Contains(key)).ShouldBeEmpty("generations no client request accounts for");

        // Each ended once, as its prompt says; each charged once, and the failed ones refunded once.
        foreach (var generation in generations)
        {
            generation.Status.ShouldBe(generation.Prompt.StartsWith(ChaosFleet.FailingPrompt, StringComparison.Ordinal) ? "Failed" : "Succeeded", generation.Id.ToString());
        }

        var entries = await EntriesAsync(userIds);
        var expected = generations.Select(generation => (generation.UserId, -1L, "generation", $"generation:{generation.Id}:charge"))
            .Concat(generations.Where(generation => generation.Status == "Failed").Select(generation => (generation.UserId, 1L, "refund", $"generation:{generation.Id}:refund")))
            .Concat(userIds.Select(user => (user, ChaosFleet.Bonus, "signup_bonus", "signup-bonus")));
        entries.Select(entry => (entry.UserId, entry.Amount, entry.Kind, entry.IdempotencyKey)).Order().ShouldBe(expected.Order());
        var balances = await BalancesAsync(userIds);
        foreach (var user in userIds)
        {
            balances[user].ShouldBe(entries.Where(entry => entry.UserId == user).Sum(entry => entry.Amount), $"the wallet of {user} against its ledger");
        }

        var reconciled = await fleet.RunAsync(["reconcile"]);
        reconciled.ExitCode.ShouldBe(0, reconciled.Output);
        reconciled.Output.ShouldContain("Every wallet reconciles");
    }

    [Fact(Timeout = 150_000)]
    public async Task Generations_spread_over_both_workers_end_once_and_are_charged_once_when_one_worker_is_killed_mid_job()
    {
        // Slow enough that every job is still waiting on the provider when the worker dies.
        ai.Delay = TimeSpan.FromSeconds(4);
        var user = await SignInAsync("127.0.0.22", $"spread-{Guid.NewGuid():N}@example.com");
        var workerIds = fleet.Workers.ToDictionary(worker => worker.ProcessId, worker => worker.Name);
        // More jobs than one worker runs at once (Jobs__WorkerCount, 10): the other worker must take some.
        var promptsById = new Dictionary<Guid, string>();
        using var http = fleet.ClientFrom("127.0.0.22");
        foreach (var index in Enumerable.Range(0, 16))
        {
            var prompt = $"spread {index} {Guid.NewGuid():N}";
            var (answer, _) = await CreateUntilAnsweredAsync(http, user, Guid.NewGuid().ToString("N"), prompt);
            answer!.Status.ShouldBe(HttpStatusCode.Accepted, answer.Body);
            promptsById.Add(IdOf(answer.Body), prompt);
        }

        var created = promptsById.Keys.ToList();
        var victim = fleet.Workers[0];
        var deadline = Stopwatch.StartNew();
        // Hangfire records a job as processing before the job claims its generation: only a call that reached the provider
        // proves a worker is in the middle of one (a cold worker took longer than the kill once).
        while ((await ProcessedByAsync(created))
            .Where(pair => ai.Calls.Any(call => call.Prompt == promptsById[pair.Key]))
            .SelectMany(pair => pair.Value).Distinct().Count(workerIds.ContainsKey) < 2)
        {
            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "both workers never ran these generations\n" + fleet.DescribeProcesses());
            await Task.Delay(100, Cancel);
        }

        var victimId = victim.ProcessId;
        await victim.KillAsync();
        var restarted = victim.RestartAsync();
        var generations = await UntilEndedAsync([user.Id], TimeSpan.FromSeconds(90));
        await restarted;

        var processedBy = await ProcessedByAsync(created);
        Note("generations run by: " + string.Join(", ", processedBy.Select(pair =>
            $"{pair.Key.ToString()[^4..]}: {string.Join(" then ", pair.Value.Select(id => workerIds.GetValueOrDefault(id, $"pid {id}")))}")));
        var firstRunners = processedBy.Values.Select(processes => processes[0]).ToHashSet();
        workerIds.Keys.ShouldAllBe(worker => firstRunners.Contains(worker), "each worker ran some of them");
        // Those the killed worker was running were run again, once, elsewhere; those it had finished were not.
        var takenOver = generations.Where(generation => generation.Attempts == 2).ToList();
        takenOver.ShouldNotBeEmpty("the killed worker was running none of them");
        foreach (var generation in takenOver)
        {
            (processedBy[generation.Id][0], processedBy[generation.Id][^1] == victimId).ShouldBe((victimId, false), $"who ran {generation.Id}");
        }

        generations.ShouldAllBe(generation => generation.Attempts <= 2);

        generations.Select(generation => generation.Id).Order().ShouldBe(created.Order());
        foreach (var generation in generations)
        {
            (generation.Status, generation.ResultText).ShouldBe(("Succeeded", $"Local answer to: {generation.Prompt}"));
            // A worker killed between its claim and its call to the provider spent an attempt without a call.
            ai.Calls.Count(call => call.Prompt == generation.Prompt).ShouldBeInRange(1, generation.Attempts, $"provider calls for {generation.Id}");
        }

        var entries = await EntriesAsync([user.Id]);
        entries.Select(entry => (entry.Amount, entry.IdempotencyKey)).Order().ShouldBe(
            generations.Select(generation => (-1L, $"generation:{generation.Id}:charge")).Append((ChaosFleet.Bonus, "signup-bonus")).Order());
        (await BalancesAsync([user.Id]))[user.Id].ShouldBe(ChaosFleet.Bonus - generations.Count);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_stopped_api_loses_no_request_under_load_and_a_stopped_worker_hands_its_generation_to_the_other()
    {
        ai.Delay = TimeSpan.Zero;
        const string source = "127.0.0.23";
        using var http = fleet.ClientFrom(source);
        var users = await Task.WhenAll(Enumerable.Range(0, 4).Select(index => SignInAsync(source, $"steady-{index}-{Guid.NewGuid():N}@example.com")));
        var stopped = fleet.Apis[2];
        var answers = new ConcurrentQueue<(TimeSpan At, string Sent, Answer? Answer)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 8).Select(client => Task.Run(async () =>
        {
            var user = users[client % users.Length];
            for (var request = 0; !stop.IsCancellationRequested; request++)
            {
                var at = clock.Elapsed;
                // A generation now and then: a request that moves credits must not be lost either.
                var generates = request % 4 == 3;
                var answer = generates
                    ? await SendAsync(http, HttpMethod.Post, "/api/v1/generations", user, new { type = "text", prompt = $"steady {Guid.NewGuid():N}" }, Guid.NewGuid().ToString("N"))
                    : await SendAsync(http, HttpMethod.Get, "/api/v1/wallet", user);
                answers.Enqueue((at, generates ? "POST /generations" : "GET /wallet", answer));
            }
        }, Cancel)));

        await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
        var signalled = clock.Elapsed;
        var exited = await stopped.TerminateAsync();
        await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
        await stop.CancelAsync();
        await load;

        var failures = answers.Where(sent => sent.Answer?.Status is not (HttpStatusCode.OK or HttpStatusCode.Accepted)).ToList();
        failures.Select(sent => $"{sent.At.TotalSeconds:0.00} s: {sent.Sent} → {sent.Answer?.Status} {sent.Answer?.Body}").ShouldBeEmpty();
        exited.ExitCode.ShouldBe(0, exited.Output);
        exited.Output.ShouldContain("Drained: every request accepted was answered");
        answers.Count(sent => sent.At > signalled && sent.Answer!.Upstream == stopped.Upstream)
            .ShouldBeGreaterThan(0, "the stopping api kept serving while the proxy still sent it requests");
        // Back while the worker half runs, which needs no third api.
        var apiBack = stopped.RestartAsync();
        // The steady load's generations end first, at the provider's full speed: on a busy machine a backlog of them would
        // still be queued when the provider slows down below, and hold the workers for minutes.
        await UntilEndedAsync([.. users.Select(steady => steady.Id)], TimeSpan.FromSeconds(90));

        // Then a worker stopped while its generation waits on a slow provider.
        ai.Delay = TimeSpan.FromSeconds(8);
        var user = users[0];
        var prompt = $"handed back {Guid.NewGuid():N}";
        var (created, _) = await CreateUntilAnsweredAsync(http, user, Guid.NewGuid().ToString("N"), prompt);
        created!.Status.ShouldBe(HttpStatusCode.Accepted, created.Body);
        var id = IdOf(created.Body);
        var waited = Stopwatch.StartNew();
        List<int> processedBy;
        while (!ai.Calls.Any(call => call.Prompt == prompt) || (processedBy = (await ProcessedByAsync([id])).GetValueOrDefault(id, [])).Count == 0)
        {
            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "no worker called the provider\n" + fleet.DescribeProcesses());
            await Task.Delay(50, Cancel);
        }

        // The call under way keeps its 8 s; the next one, the other worker's, is answered at once.
        ai.Delay = TimeSpan.Zero;
        var running = fleet.Workers.Single(worker => worker.ProcessId == processedBy[0]);
        var other = fleet.Workers.Single(worker => worker != running);
        var handedBack = await running.TerminateAsync();
        var sinceExit = Stopwatch.StartNew();
        handedBack.ExitCode.ShouldBe(0, handedBack.Output);
        handedBack.Output.ShouldContain($"Generation {id} handed back");
        var generation = (await UntilEndedAsync([user.Id], TimeSpan.FromSeconds(30))).Single(generation => generation.Id == id);
        // Promptly: well before a crashed worker's job would have been found again (invisibility, then staleness).
        sinceExit.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(8));
        await Task.WhenAll(apiBack, running.RestartAsync());

        (generation.Status, generation.Attempts, generation.ResultText).ShouldBe(("Succeeded", 1, $"Local answer to: {prompt}"));
        (await ProcessedByAsync([id]))[id].ShouldBe([processedBy[0], other.ProcessId], "started on the stopped worker, finished on the other");
        ai.Calls.Count(call => call.Prompt == prompt).ShouldBe(2);
        (await EntriesAsync([user.Id])).Count(entry => entry.IdempotencyKey == $"generation:{id}:charge").ShouldBe(1);
        (await EntriesAsync([user.Id])).ShouldNotContain(entry => entry.Kind == "refund");
    }

    /// <summary>
    /// Through the proxy (nginx with its default settings, response buffering on) to any api process, from whichever worker
    /// runs the job: the pieces arrive while the provider writes, the published binary's Redis path end to end.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task A_text_generation_streams_live_through_the_proxy_from_a_worker_to_an_api()
    {
        var user = await SignInAsync("127.0.0.23", $"stream-{Guid.NewGuid():N}@example.com");
        using var http = fleet.ClientFrom("127.0.0.23");
        var prompt = $"streamed through the proxy {Guid.NewGuid():N}";
        ai.Delay = TimeSpan.Zero;
        ai.HoldAfterWords = 3;
        try
        {
            var (created, _) = await CreateUntilAnsweredAsync(http, user, Guid.NewGuid().ToString("N"), prompt);
            created!.Status.ShouldBe(HttpStatusCode.Accepted, created.Body);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/generations/{IdOf(created.Body)}/events");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
            var received = new GenerationClient.Received();
            var reading = GenerationClient.ReadEventsAsync(response, received.Add);
            await ai.Held.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
            var waited = Stopwatch.StartNew();
            while (received.Deltas < 3)
            {
                waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), "the first pieces did not pass the proxy while the provider was writing");
                await Task.Delay(20, Cancel);
            }

            ai.HoldRelease.TrySetResult();
            var events = await reading;
            events[^1].Generation!.Status.ShouldBe("succeeded");
            GenerationClient.TextOf(events).ShouldBe($"Local answer to: {prompt}");
        }
        finally
        {
            ai.HoldAfterWords = null;
            ai.HoldRelease.TrySetResult();
        }
    }

    private static Guid IdOf(string generation) => JsonDocument.Parse(generation).RootElement.GetProperty("id").GetGuid();

    /// <summary>To the test's output, where a run's figures are read.</summary>
    private static void Note(string message)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(message);
        TestContext.Current.SendDiagnosticMessage(message);
    }

    private async Task<User> SignInAsync(string source, string email)
    {
        var client = new FleetClient(fleet.ClientFrom(source), fleet.Smtp);
        var (otpToken, _) = await client.RequestCodeAsync(email);
        var verified = (await client.VerifyAsync(otpToken, await client.CodeMailedToAsync(email))).ShouldBe(HttpStatusCode.OK);
        return new User(verified.Read<JsonElement>().GetProperty("user").GetProperty("id").GetGuid(), verified.Read<FleetClient.Tokens>().AccessToken);
    }

    /// <summary>One request through the proxy; null when the connection itself failed.</summary>
    private static async Task<Answer?> SendAsync(HttpClient http, HttpMethod method, string path, User user, object? body = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        try
        {
            using var response = await http.SendAsync(request, Cancel);
            var upstream = response.Headers.TryGetValues(NginxProxy.UpstreamHeader, out var values) ? values.Single() : null;
            return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(Cancel), upstream);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>
    /// Creates a text generation as a careful app does: an answer lost on the way (the proxy's 502 when the api died
    /// mid-request) is asked again under the same key. A key still claimed after a few seconds stays 409: its request
    /// died holding it. Returns the last answer and how many were lost.
    /// </summary>
    private static async Task<(Answer? Answer, int Lost)> CreateUntilAnsweredAsync(HttpClient http, User user, string key, string prompt)
    {
        var lost = 0;
        Stopwatch? inProgress = null;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var answer = await SendAsync(http, HttpMethod.Post, "/api/v1/generations", user, new { type = "text", prompt }, key);
            var retry = answer?.Status switch
            {
                null or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => ++lost > 0,
                HttpStatusCode.Conflict => (inProgress ??= Stopwatch.StartNew()).Elapsed < TimeSpan.FromSeconds(3),
                _ => false,
            };
            if (!retry || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                return (answer, lost);
            }

            await Task.Delay(200, Cancel);
        }
    }

    /// <summary>
    /// Waits until no generation of <paramref name="users"/> is queued or running, then returns them all; with
    /// <paramref name="recoverLostJobs"/>, runs the recovery sweep at once and every 10 s meanwhile.
    /// </summary>
    private async Task<List<GenerationRow>> UntilEndedAsync(Guid[] users, TimeSpan patience, bool recoverLostJobs = false)
    {
        var waited = Stopwatch.StartNew();
        TimeSpan? recovered = null;
        while (true)
        {
            if (recoverLostJobs && (recovered is null || waited.Elapsed - recovered >= TimeSpan.FromSeconds(10)))
            {
                TriggerGenerationRecovery();
                recovered = waited.Elapsed;
            }

            var generations = await QueryAsync(
                "SELECT id, user_id, idempotency_key, prompt, status, attempts, result_text FROM generations WHERE user_id = ANY(@users)",
                reader => new GenerationRow(reader.GetGuid(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6)), users);
            var unfinished = generations.Where(generation => generation.Status is "Queued" or "Running").ToList();
            if (unfinished.Count == 0)
            {
                return generations;
            }

            waited.Elapsed.ShouldBeLessThan(patience, $"{unfinished.Count} generations still unfinished, e.g. {unfinished[0]}\n{fleet.DescribeProcesses()}");
            await Task.Delay(250, Cancel);
        }
    }

    /// <summary>
    /// Runs the generation recovery sweep now, as an operator can from the job dashboard: a generation whose job was never
    /// enqueued waits for it otherwise, and it runs every five minutes. It takes generations stale for
    /// Generation__StaleAfterSeconds (15 s here), and enqueueing a generation's job twice changes nothing.
    /// </summary>
    private void TriggerGenerationRecovery()
    {
        var options = new PostgreSqlStorageOptions { SchemaName = Apptork.Root.Platform.Jobs.JobsSetup.PostgresSchema, PrepareSchemaIfNecessary = false };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(fleet.ConnectionString, options, null), options);
        new RecurringJobManager(storage).TriggerJob("generation-recovery");
    }

    private Task<List<EntryRow>> EntriesAsync(Guid[] users) => QueryAsync(
        "SELECT user_id, amount, kind, idempotency_key FROM ledger_entries WHERE user_id = ANY(@users)",
        reader => new EntryRow(reader.GetGuid(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3)), users);

    private async Task<Dictionary<Guid, long>> BalancesAsync(Guid[] users) =>
        (await QueryAsync("SELECT user_id, balance FROM wallets WHERE user_id = ANY(@users)", reader => (reader.GetGuid(0), reader.GetInt64(1)), users))
        .ToDictionary(wallet => wallet.Item1, wallet => wallet.Item2);

    /// <summary>
    /// For each generation, the worker processes that started its job, in order, from the job server's own records: each
    /// Processing state names its server, <c>machine:pid:…</c>.
    /// </summary>
    private async Task<Dictionary<Guid, List<int>>> ProcessedByAsync(IReadOnlyCollection<Guid> generations)
    {
        var states = await QueryAsync(
            "SELECT j.arguments::text, s.data::text FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid WHERE s.name = 'Processing' ORDER BY s.id",
            reader => (Arguments: reader.GetString(0), Data: reader.GetString(1)), []);
        var processedBy = new Dictionary<Guid, List<int>>();
        foreach (var (arguments, data) in states)
        {
            var generation = generations.FirstOrDefault(id => arguments.Contains(id.ToString(), StringComparison.OrdinalIgnoreCase));
            if (generation != Guid.Empty)
            {
                var server = JsonDocument.Parse(data).RootElement.GetProperty("ServerId").GetString()!;
                var processId = int.Parse(server.Split(':')[1], CultureInfo.InvariantCulture);
                (processedBy.TryGetValue(generation, out var list) ? list : processedBy[generation] = []).Add(processId);
            }
        }

        return processedBy;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, Guid[] users)
    {
        await using var connection = new NpgsqlConnection(fleet.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("users", users);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var rows = new List<T>();
        while (await reader.ReadAsync(Cancel))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
