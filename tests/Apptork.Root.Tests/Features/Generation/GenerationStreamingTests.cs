using System.Globalization;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;
using StreamEvent = Apptork.Root.Tests.Features.Generation.GenerationClient.StreamEvent;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// A text generation's answer reaches the client piece by piece as the provider streams it (the local OpenAI-compatible
/// server streaming chunks, read by the real OpenAI client), from whichever process runs the job to whichever holds the
/// client's connection, and a client that reconnects loses and repeats nothing.
/// </summary>
public sealed class GenerationStreamingTests(PostgresServer postgres, RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deltas_arrive_in_order_while_the_provider_writes_then_succeeded_and_the_stored_text_is_their_concatenation()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Settings(ai.Settings));
        var (client, books, userId) = await SignedInAsync(app, "reader@example.com");
        const string Prompt = "tell me a story slowly";
        var words = LocalOpenAi.AnswerWords($"Local answer to: {Prompt}");
        ai.HoldAfterWords = 3;

        var created = await client.CreateOkAsync("text", Prompt);
        var received = new GenerationClient.Received();
        var reading = client.EventsAsync(created.Id, received.Add);
        await ai.Held.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        // Live, not replayed at the end: the first pieces are on the client while the provider is still writing.
        await EventuallyAsync(() => received.Deltas == 3);
        (await client.GetAsync(created.Id)).Status.ShouldBe("running");
        // A resume id of the right shape that this log never gave (another generation's, a restarted process's): start over.
        var strangerId = new GenerationClient.Received();
        var resumingFromStrangerId = client.EventsAsync(created.Id, strangerId.Add, lastEventId: "99999999999999-0");
        await EventuallyAsync(() => strangerId.Deltas == 3);
        ai.HoldRelease.SetResult();

        var fromStrangerId = await resumingFromStrangerId;
        fromStrangerId.Select(item => item.Type).Take(2).ShouldBe(["generation", "restarted"]);
        fromStrangerId[1].Data.ShouldContain("unknown_last_event_id");
        GenerationClient.TextOf(fromStrangerId).ShouldBe($"Local answer to: {Prompt}");
        var events = await reading;
        var deltas = Deltas(events);
        deltas.Select(item => item.Delta!.Index).ShouldBe(Enumerable.Range(0, words.Count));
        deltas.Select(item => item.Delta!.Text).ShouldBe(words);
        ShouldIncrease(deltas.Select(item => item.Id!));
        events.FindIndex(item => item.Type == "delta").ShouldBeGreaterThan(events.FindIndex(item => item.Generation?.Status == "running"));
        events[^1].Generation!.Status.ShouldBe("succeeded");
        events.Skip(events.FindLastIndex(item => item.Type == "delta") + 1).ShouldAllBe(item => item.Type == "generation");
        var view = await client.GetAsync(created.Id);
        var stored = view.ResultText;
        stored.ShouldBe($"Local answer to: {Prompt}");
        GenerationClient.TextOf(events).ShouldBe(stored);
        // The usage the provider's last chunk reported (the OpenAI client asks for it when streaming).
        view.Usage.ShouldBe(new GenerationClient.Usage(3, words.Count));
        ai.Requests.ShouldAllBe(request => request["stream"] != null && (bool)request["stream"]!);

        // After the end: a client that did not follow gets the whole text as one delta; one that did, or that got it so, nothing again.
        var late = await client.EventsAsync(created.Id);
        late.Select(item => (item.Type, item.Id)).ShouldBe([("delta", "final"), ("generation", null)]);
        late[0].Delta.ShouldBe(new GenerationClient.Delta(0, stored!));
        (await client.EventsAsync(created.Id, lastEventId: deltas[^1].Id)).Select(item => item.Type).ShouldBe(["generation"]);
        (await client.EventsAsync(created.Id, lastEventId: "final")).Select(item => item.Type).ShouldBe(["generation"]);
        (await books.EntriesAsync(userId)).Select(entry => entry.Amount).ShouldBe([5L, -1L]);
    }

    [Fact]
    public async Task Two_api_processes_and_a_worker_stream_every_delta_to_either_api_and_a_reconnection_resumes_exactly()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = Settings(ai.Settings, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"streaming-{Guid.NewGuid():N}:",
        });
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "streaming");
        await using var creatingApi = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Role(settings, "api"));
        await using var otherApi = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Role(settings, "api"));
        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Role(settings, "worker"));
        var (client, books, userId) = await SignedInAsync(creatingApi, "follower@example.com");
        var elsewhere = new GenerationClient(otherApi, client.AccessToken);
        const string Prompt = "a long answer across processes";
        var words = LocalOpenAi.AnswerWords($"Local answer to: {Prompt}");
        ai.HoldAfterWords = 4;

        var created = await client.CreateOkAsync("text", Prompt);
        var followed = new GenerationClient.Received();
        var following = elsewhere.EventsAsync(created.Id, followed.Add);
        // A client that drops after two pieces, on the api process that did not create the generation...
        var dropped = Deltas(await elsewhere.EventsAsync(created.Id, until: item => item.Type == "delta" && item.Delta!.Index == 1));
        await ai.Held.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        // ...reconnects to the other one with the last id it had: what it missed, then the live pieces.
        var resumed = new GenerationClient.Received();
        var resuming = client.EventsAsync(created.Id, resumed.Add, lastEventId: dropped[^1].Id);
        await EventuallyAsync(() => resumed.Deltas == 2 && followed.Deltas == 4);
        ai.HoldRelease.SetResult();

        var stored = (await client.WaitAsync(created.Id, "succeeded")).ResultText;
        stored.ShouldBe($"Local answer to: {Prompt}");
        var resumedEvents = await resuming;
        resumedEvents.ShouldNotContain(item => item.Type == "restarted");
        dropped.Concat(Deltas(resumedEvents)).Select(item => item.Delta!.Index).ShouldBe(Enumerable.Range(0, words.Count));
        (GenerationClient.TextOf(dropped) + GenerationClient.TextOf(resumedEvents)).ShouldBe(stored);
        resumedEvents[^1].Generation!.Status.ShouldBe("succeeded");
        var followedEvents = await following;
        Deltas(followedEvents).Select(item => item.Delta!.Text).ShouldBe(words);
        GenerationClient.TextOf(followedEvents).ShouldBe(stored);
        followedEvents[^1].Generation!.Status.ShouldBe("succeeded");

        // An id this stream never gave, once it has ended: start over with the whole text.
        var unknown = await elsewhere.EventsAsync(created.Id, lastEventId: "not-an-id");
        unknown.Select(item => item.Type).ShouldBe(["restarted", "delta", "generation"]);
        unknown[0].Data.ShouldContain("unknown_last_event_id");
        GenerationClient.TextOf(unknown).ShouldBe(stored);
        ai.Calls.Count.ShouldBe(1);
        (await books.EntriesAsync(userId)).Select(entry => entry.Amount).ShouldBe([5L, -1L]);
    }

    [Fact]
    public async Task A_stream_cut_off_halfway_runs_again_with_a_restarted_event_and_is_stored_once_and_charged_once()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Settings(ai.Settings, new Dictionary<string, string?>
        {
            ["Generation:RetryDelaySeconds"] = "0",
        }));
        var (client, books, userId) = await SignedInAsync(app, "interrupted@example.com");
        const string Prompt = "an answer the network cuts";
        var words = LocalOpenAi.AnswerWords($"Local answer to: {Prompt}");
        ai.CutOffStreams = 1;
        ai.ChunkDelay = TimeSpan.FromMilliseconds(20);

        var created = await client.CreateOkAsync("text", Prompt);
        var events = await client.EventsAsync(created.Id);

        var restart = events.FindIndex(item => item.Type == "restarted");
        restart.ShouldBeGreaterThan(0, string.Join(", ", events.Select(item => item.Type)));
        // The pieces read before the cut (the last ones sent may die with the connection), then the second run whole.
        var beforeCut = Deltas(events.Take(restart));
        beforeCut.Count.ShouldBeInRange(1, words.Count / 2);
        beforeCut.Select(item => item.Delta!.Text).ShouldBe(words.Take(beforeCut.Count));
        Deltas(events.Skip(restart)).Select(item => item.Delta!.Text).ShouldBe(words);
        events[^1].Generation!.Status.ShouldBe("succeeded");
        GenerationClient.TextOf(events).ShouldBe(events[^1].Generation!.ResultText);
        events[^1].Generation!.ResultText.ShouldBe($"Local answer to: {Prompt}");
        ai.Calls.Count.ShouldBe(2);
        (await books.EntriesAsync(userId)).Select(entry => entry.Amount).ShouldBe([5L, -1L]);
    }

    [Fact]
    public async Task Without_redis_between_an_api_and_a_worker_the_client_gets_the_whole_text_at_the_end()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = Settings(ai.Settings);
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "streaming_apart");
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Role(settings, "api"));
        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Role(settings, "worker"));
        var (client, _, _) = await SignedInAsync(api, "apart@example.com");

        var created = await client.CreateOkAsync("text", "no redis here");
        var events = await client.EventsAsync(created.Id);

        // The pieces stay in the worker's memory; the api's stream, at the end, sends the stored text whole.
        events.ShouldNotContain(item => item.Type == "restarted");
        Deltas(events).Select(item => (item.Id, item.Delta!.Index, item.Delta.Text)).ShouldBe([("final", 0, "Local answer to: no redis here")]);
        events[^1].Generation!.Status.ShouldBe("succeeded");
        events[^1].Generation!.ResultText.ShouldBe("Local answer to: no redis here");
    }

    private static Dictionary<string, string?> Settings(params IReadOnlyDictionary<string, string?>[] parts)
    {
        var merged = new Dictionary<string, string?>
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-streaming-").FullName,
        };
        foreach (var (key, value) in parts.SelectMany(part => part))
        {
            merged[key] = value;
        }

        return merged;
    }

    private static Dictionary<string, string?> Role(Dictionary<string, string?> settings, string role) => new(settings) { ["Role"] = role };

    private static async Task<(GenerationClient Client, WalletBooks Books, Guid UserId)> SignedInAsync(RootApp app, string email)
    {
        var signedIn = await new AuthClient(app).SignInAsync(email);
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 5, "grant", LedgerEntryKind.Adjustment);
        return (new GenerationClient(app, signedIn.AccessToken), books, signedIn.User.Id);
    }

    private static List<StreamEvent> Deltas(IEnumerable<StreamEvent> events) => [.. events.Where(item => item.Type == "delta")];

    /// <summary>Ids as the server orders them (<c>milliseconds-sequence</c>): each after the one before.</summary>
    private static void ShouldIncrease(IEnumerable<string> ids)
    {
        var positions = ids.Select(id => id.Split('-').Select(part => ulong.Parse(part, CultureInfo.InvariantCulture)).ToArray()).ToList();
        for (var index = 1; index < positions.Count; index++)
        {
            (positions[index][0], positions[index][1]).CompareTo((positions[index - 1][0], positions[index - 1][1])).ShouldBePositive();
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            (DateTime.UtcNow < deadline).ShouldBeTrue("The streamed pieces did not arrive while the provider was still writing.");
            await Task.Delay(20, Cancel);
        }
    }
}
