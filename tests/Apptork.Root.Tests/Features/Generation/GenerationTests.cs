using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

public sealed class GenerationTests(PostgresServer postgres, S3Server s3, RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Polling a generation for as long as a loaded test machine may take must not hit the user scope's rate.</summary>
    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    private static IReadOnlyDictionary<string, string?> Unthrottled { get; } = new Dictionary<string, string?> { ["Throttling:Rates:user:free"] = "unlimited" };

    [Fact]
    public async Task The_embedded_shape_generates_text_and_an_image_offline_with_no_configuration()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Merge(Unthrottled, new Dictionary<string, string?>
        {
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-generations-").FullName,
        }));
        var signedIn = await new AuthClient(app).SignInAsync("creator@example.com");
        var client = new GenerationClient(app, signedIn.AccessToken);
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 10, "grant", LedgerEntryKind.Adjustment);

        var text = await client.CreateOkAsync("text", "a haiku about ledgers");
        (text.Status, text.Cost).ShouldBe(("queued", 1L));
        var image = await client.CreateOkAsync("image", "a red fox");
        image.Cost.ShouldBe(5);

        var answered = await client.WaitAsync(text.Id, "succeeded");
        answered.ResultText.ShouldBe("[offline] A generated answer to: a haiku about ledgers");
        // The offline provider counts words as tokens: the prompt's 4, the answer's 9.
        answered.Usage.ShouldBe(new GenerationClient.Usage(4, 9));
        // And stops at max_output_tokens words, as a model stops at that many tokens.
        var cut = await client.WaitAsync((await client.CreateOkAsync("text", "a haiku about ledgers", new { max_output_tokens = 3 })).Id, "succeeded");
        (cut.ResultText, cut.Usage).ShouldBe(("[offline] A generated ", new GenerationClient.Usage(4, 3)));
        var done = await client.WaitAsync(image.Id, "succeeded");
        done.Usage.ShouldBeNull();
        using var raw = new HttpClient();
        var png = await raw.GetByteArrayAsync(done.DownloadUrl, Cancel);
        png[..8].ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        await new WalletBooks(app).ShouldAddUpAsync(signedIn.User.Id, 3);

        var listed = await client.ListAsync();
        listed.Select(generation => generation.Id).ShouldBe([cut.Id, image.Id, text.Id]);
        listed[2].Usage.ShouldBe(answered.Usage);
    }

    [Fact]
    public async Task Generation_ids_are_time_ordered_uuids_that_page_newest_first_and_malformed_ids_are_not_found()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Unthrottled);
        var signedIn = await new AuthClient(app).SignInAsync("pager@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 10, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        var created = new List<GenerationClient.View>();
        for (var number = 1; number <= 3; number++)
        {
            created.Add(await client.CreateOkAsync("text", $"prompt {number}"));
            // Ids are ordered to the millisecond: a pause keeps creation order and id order the same.
            await Task.Delay(5, Cancel);
        }

        created.ShouldAllBe(generation => generation.Id.Version == 7);
        var first = await client.PageAsync("?limit=2");
        first.Results.Count.ShouldBe(2);
        first.NextCursor.ShouldNotBeNull();
        var second = await client.PageAsync($"?limit=2&cursor={first.NextCursor}");
        second.NextCursor.ShouldBeNull();
        first.Results.Concat(second.Results).Select(generation => generation.Id).ShouldBe(created.Select(generation => generation.Id).Reverse());

        // A cursor of a list keyed by numbers (the wallet's) is not one of this list's.
        using (var numbered = await client.GetRawAsync($"/api/v1/generations?cursor={Convert.ToBase64String("k1:12"u8).TrimEnd('=')}"))
        {
            await ErrorAssert.SingleAsync(numbered, HttpStatusCode.BadRequest, "validation_error", "invalid_cursor", "cursor");
        }

        foreach (var malformed in new[] { "/api/v1/generations/abc", "/api/v1/generations/12", "/api/v1/generations/12/events", $"/api/v1/generations/{Guid.CreateVersion7()}" })
        {
            using var missing = await client.GetRawAsync(malformed);
            await ErrorAssert.SingleAsync(missing, HttpStatusCode.NotFound, "client_error", "not_found");
        }
    }

    [Fact]
    public async Task A_generation_streams_its_status_as_server_sent_events_until_it_ends()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Merge(Unthrottled, new Dictionary<string, string?>
        {
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-generations-").FullName,
        }));
        var signedIn = await new AuthClient(app).SignInAsync("watcher@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 10, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        var created = await client.CreateOkAsync("image", "a slow sunrise");

        var events = await client.EventsAsync(created.Id);
        events.ShouldAllBe(item => item.Type == "generation");
        var statuses = events.Select(item => item.Generation!.Status).ToList();
        statuses.ShouldBeUnique();
        statuses[^1].ShouldBe("succeeded");
        statuses[..^1].ShouldAllBe(status => status == "queued" || status == "running");
        events[^1].Generation!.DownloadUrl.ShouldNotBeNull();

        var stranger = await new AuthClient(app).SignInAsync("stranger@example.com");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/generations/{created.Id}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", stranger.AccessToken);
        using var refused = await app.Client().SendAsync(request, Cancel);
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    [Fact]
    public async Task A_status_stream_keeps_alive_while_nothing_happens_and_ends_cleanly_when_the_process_stops()
    {
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        // An api process with no worker: the generation stays queued, and only the shutdown can end its stream.
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Merge(s3.Settings, Unthrottled, new Dictionary<string, string?>
        {
            ["Role"] = "api",
            ["Ai:Provider"] = "OpenAI",
            ["Ai:ApiKey"] = "sk-unused",
            ["Ai:Endpoint"] = "http://127.0.0.1:9/v1",
        }));
        var signedIn = await new AuthClient(app).SignInAsync("leaving@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 1, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        var created = await client.CreateOkAsync("text", "never run");
        var keptAlive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = client.EventsAsync(created.Id, item =>
        {
            if (item.Type == "keep-alive")
            {
                keptAlive.TrySetResult();
            }
        });
        // Nothing happens to a queued generation: the stream says so every few seconds, so that no read timeout cuts it.
        await keptAlive.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        await app.DisposeAsync();
        var events = await reading;
        events.Where(item => item.Type == "generation").Select(item => item.Generation!.Status).ShouldBe(["queued"]);
        events.Select(item => item.Type).Distinct().ShouldBe(["generation", "keep-alive"]);
    }

    [Fact]
    public async Task In_the_production_shape_an_api_process_charges_and_a_worker_generates_through_the_openai_client()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = Merge(ai.Settings, s3.Settings, Unthrottled, new Dictionary<string, string?>
        {
            // The whole production shape: limits in Redis, under a prefix of this test's own.
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"generation-{Guid.NewGuid():N}:",
        });
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        await using var api = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Merge(settings, new Dictionary<string, string?> { ["Role"] = "api" }));
        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Merge(settings, new Dictionary<string, string?> { ["Role"] = "worker" }));
        var signedIn = await new AuthClient(api).SignInAsync("production.creator@example.com");
        await new WalletBooks(api).PostAsync(signedIn.User.Id, 6, "purchase", LedgerEntryKind.Purchase);
        var client = new GenerationClient(api, signedIn.AccessToken);

        var text = await client.CreateOkAsync("text", "hello there", new { max_output_tokens = 50 });
        var image = await client.CreateOkAsync("image", "a lighthouse", new { size = "1536x1024" });
        (await client.WaitAsync(text.Id, "succeeded")).ResultText.ShouldBe("Local answer to: hello there");
        var done = await client.WaitAsync(image.Id, "succeeded");
        done.DownloadUrl!.ToString().ShouldStartWith(s3.ServiceUrl);
        using var raw = new HttpClient();
        (await raw.GetByteArrayAsync(done.DownloadUrl, Cancel)).ShouldBe(ai.Image);
        ai.Calls.Select(call => (call.Path, call.Model)).ShouldBe([("chat", "local-text"), ("images", "local-image")], ignoreOrder: true);
        // The request's options reach the provider in the OpenAI API's own fields.
        ai.Requests.ShouldContain(request => request["max_completion_tokens"] != null && (int)request["max_completion_tokens"]! == 50);
        ai.Requests.ShouldContain(request => (string?)request["size"] == "1536x1024");

        using var broke = await client.CreateAsync("text", "one more", Guid.NewGuid().ToString());
        await ErrorAssert.SingleAsync(broke, HttpStatusCode.PaymentRequired, "client_error", "invalid_credit", "credits");
        await new WalletBooks(api).ShouldAddUpAsync(signedIn.User.Id, 0);
        (await new WalletBooks(api).WithDbAsync(db => db.Generations.CountAsync(Cancel))).ShouldBe(2);
    }

    // Deadlines beyond the 90 s waits inside, for a stall outside them (a start-up, a wallet call).
    [Theory(Timeout = 180_000), Long]
    [InlineData(AiBehaviour.Fail)]
    [InlineData(AiBehaviour.Hang)]
    [InlineData(AiBehaviour.Garbage)]
    public async Task A_provider_that_keeps_failing_is_retried_then_the_generation_fails_and_is_refunded_once(AiBehaviour behaviour)
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = behaviour;
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, Merge(ai.Settings, s3.Settings, Unthrottled, new Dictionary<string, string?>
        {
            ["Generation:MaxAttempts"] = "3",
            ["Generation:RetryDelaySeconds"] = "0",
            ["Ai:TimeoutSeconds"] = "1",
        }));
        var signedIn = await new AuthClient(app).SignInAsync($"unlucky.{behaviour}@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 5, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);

        var created = await client.CreateOkAsync("text", "will it work?");
        created.Error.ShouldBeNull();
        var failed = await client.WaitAsync(created.Id, "failed", TimeSpan.FromSeconds(90));
        // A stable code and a translated detail for the user, never the provider's own words.
        failed.Error.ShouldBe(new GenerationClient.Failure(
            "generation_failed", "The AI provider could not produce this result, even after retrying. You were not charged for it."));
        (await new GenerationClient(app, signedIn.AccessToken, "es").GetAsync(created.Id)).Error!.Detail
            .ShouldBe("El proveedor de IA no pudo producir este resultado, ni siquiera tras reintentarlo. No se te ha cobrado nada.");
        ai.Calls.Count.ShouldBe(3);
        await books.ShouldAddUpAsync(signedIn.User.Id, 5);
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(5L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation), (1L, LedgerEntryKind.Refund)]);
    }

    /// <summary>
    /// One refusal: the job writes the result again, without asking the provider again. Three, as many as the job tries:
    /// the failure escapes to Hangfire's retry, which runs the generation again once its claim is stale.
    /// </summary>
    [Theory(Timeout = 180_000), Long]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    public async Task A_result_the_database_refuses_to_store_is_written_again_or_generated_again_and_never_refunded(int refusedWrites, int providerCalls)
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Merge(ai.Settings, s3.Settings, Unthrottled, new Dictionary<string, string?>
        {
            ["Generation:StaleAfterSeconds"] = "5",
        }));
        // The database fails the first writes of a result, as a dropped connection or a failover would.
        await using (var connection = new Npgsql.NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(Cancel);
            await using var command = new Npgsql.NpgsqlCommand(
                $"""
                CREATE SEQUENCE result_writes;
                CREATE FUNCTION refuse_first_result() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.status = 'Succeeded' AND nextval('result_writes') <= {refusedWrites} THEN RAISE EXCEPTION 'connection lost (simulated)'; END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER refuse_first_result BEFORE UPDATE ON generations FOR EACH ROW EXECUTE FUNCTION refuse_first_result();
                """, connection);
            await command.ExecuteNonQueryAsync(Cancel);
        }

        var signedIn = await new AuthClient(app).SignInAsync("persistent@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 5, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);

        var created = await client.CreateOkAsync("text", "try again");
        (await client.WaitAsync(created.Id, "succeeded", TimeSpan.FromSeconds(90))).ResultText.ShouldBe("Local answer to: try again");
        ai.Calls.Count.ShouldBe(providerCalls);
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(5L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation)]);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_request_run_again_after_its_answer_was_lost_finds_its_generation_pays_nothing_more_and_another_is_refused(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, Merge(Unthrottled, s3.Settings, new Dictionary<string, string?>
        {
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-generations-").FullName,
            ["Ai:Provider"] = "OpenAI",
            ["Ai:ApiKey"] = "sk-unused",
            ["Ai:Endpoint"] = "http://127.0.0.1:9/v1",
            ["Role"] = "api",
        }));
        var signedIn = await new AuthClient(app).SignInAsync("twice@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 5, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        var key = Guid.NewGuid().ToString();
        using var first = await client.CreateAsync("text", "only once", key);
        var created = (await first.Content.ReadFromJsonAsync<GenerationClient.View>(TestJson.Options, Cancel))!;

        // The process died after the generation committed and before its answer was kept: the key is claimed, unanswered,
        // and abandoned long enough to be taken over.
        await books.WithDbAsync(db => db.IdempotencyRecords.Where(record => record.UserId == signedIn.User.Id && record.Key == key)
            .ExecuteUpdateAsync(set => set
                .SetProperty(record => record.CompletedAt, (DateTimeOffset?)null)
                .SetProperty(record => record.StatusCode, (int?)null)
                .SetProperty(record => record.Body, (byte[]?)null)
                .SetProperty(record => record.StartedAt, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10)), Cancel));

        using var again = await client.CreateAsync("text", "only once", key);
        again.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await again.Content.ReadFromJsonAsync<GenerationClient.View>(TestJson.Options, Cancel))!.Id.ShouldBe(created.Id);

        // The key's record lost altogether (Redis restarted without persistence): another request under it is still refused.
        await books.WithDbAsync(db => db.IdempotencyRecords.Where(record => record.UserId == signedIn.User.Id).ExecuteDeleteAsync(Cancel));
        using var other = await client.CreateAsync("text", "something else", key);
        await ErrorAssert.SingleAsync(other, (HttpStatusCode)422, "client_error", "idempotency_key_reused", "idempotency_key");
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(5L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation)]);
        (await books.WithDbAsync(db => db.Generations.CountAsync(Cancel))).ShouldBe(1);
    }

    [Fact]
    public async Task A_hundred_concurrent_requests_charge_once_per_distinct_idempotency_key()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, Merge(s3.Settings, new Dictionary<string, string?>
        {
            // The offline provider is refused in production: these generations need no result, only their charges.
            ["Generation:Enabled"] = "true",
            ["Throttling:Rates:ai_generation:free"] = "unlimited",
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Ai:Provider"] = "OpenAI",
            ["Ai:ApiKey"] = "sk-unused",
            ["Ai:Endpoint"] = "http://127.0.0.1:9/v1",
            ["Generation:MaxAttempts"] = "1",
        }));
        var signedIn = await new AuthClient(app).SignInAsync("impatient@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 1000, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        var keys = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid().ToString()).ToArray();

        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(index => Task.Run(async () =>
        {
            while (true)
            {
                using var response = await client.CreateAsync("text", $"prompt {index % 20}", keys[index % 20]);
                if (response.StatusCode != HttpStatusCode.Conflict)
                {
                    return (response.StatusCode, (await response.Content.ReadFromJsonAsync<GenerationClient.View>(TestJson.Options, Cancel))!.Id);
                }

                await Task.Delay(50, Cancel);
            }
        }, Cancel)));

        answers.ShouldAllBe(answer => answer.StatusCode == HttpStatusCode.Accepted);
        answers.Select(answer => answer.Id).Distinct().Count().ShouldBe(20);
        var charges = await books.WithDbAsync(db => db.LedgerEntries.CountAsync(entry => entry.UserId == signedIn.User.Id && entry.Kind == LedgerEntryKind.Generation, Cancel));
        charges.ShouldBe(20);
        (await books.WithDbAsync(db => db.Generations.CountAsync(Cancel))).ShouldBe(20);
    }

    [Theory]
    [InlineData("image", """{"size":"999x999"}""", "invalid_choice", "options.size")]
    [InlineData("text", """{"size":"1024x1024"}""", "invalid", "options.size")]
    [InlineData("text", """{"max_output_tokens":0}""", "min_value", "options.max_output_tokens")]
    [InlineData("text", """{"max_output_tokens":5000}""", "max_value", "options.max_output_tokens")]
    [InlineData("image", """{"max_output_tokens":10}""", "invalid", "options.max_output_tokens")]
    [InlineData("text", """{"temperature":0.2}""", "invalid", "options.temperature")]
    public async Task An_option_that_cannot_apply_is_refused_by_name_and_charges_nothing(string type, string options, string code, string attr)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var user = await new AuthClient(app).SignInAsync("optional@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(user.User.Id, 10, "grant", LedgerEntryKind.Adjustment);

        using var refused = await new GenerationClient(app, user.AccessToken).CreateAsync(type, "hi", Guid.NewGuid().ToString(), JsonNode.Parse(options));
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "validation_error", code, attr);
        await books.ShouldAddUpAsync(user.User.Id, 10);
    }

    [Fact]
    public async Task Generation_answers_why_it_cannot_run()
    {
        await using var off = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?> { ["Generation:Enabled"] = "false" });
        var user = await new AuthClient(off).SignInAsync("gated@example.com");
        using (var disabled = await new GenerationClient(off, user.AccessToken).CreateAsync("text", "hi", Guid.NewGuid().ToString()))
        {
            await ErrorAssert.SingleAsync(disabled, HttpStatusCode.Forbidden, "client_error", "feature_disabled");
        }

        using (var invalid = await new GenerationClient(off, user.AccessToken).CreateAsync("video", "hi", Guid.NewGuid().ToString()))
        {
            await ErrorAssert.SingleAsync(invalid, HttpStatusCode.BadRequest, "validation_error", "invalid_choice", "type");
        }

        // Where OpenAI's API takes it, beside `options`: refused by name rather than ignored.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/generations")
        {
            Content = new StringContent("""{"type":"text","prompt":"hi","max_output_tokens":100}""", System.Text.Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            using var misplaced = await off.Client().SendAsync(request, Cancel);
            await ErrorAssert.SingleAsync(misplaced, HttpStatusCode.BadRequest, "validation_error", "invalid", "max_output_tokens");
        }

        await using var unconfigured = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var other = await new AuthClient(unconfigured).SignInAsync("no.ai@example.com");
        using var none = await new GenerationClient(unconfigured, other.AccessToken).CreateAsync("text", "hi", Guid.NewGuid().ToString());
        await ErrorAssert.SingleAsync(none, HttpStatusCode.NotFound, "client_error", "ai_not_configured");
    }

    private static Dictionary<string, string?> Merge(params IReadOnlyDictionary<string, string?>[] parts)
    {
        var merged = new Dictionary<string, string?>();
        foreach (var (key, value) in parts.SelectMany(part => part))
        {
            merged[key] = value;
        }

        return merged;
    }
}
