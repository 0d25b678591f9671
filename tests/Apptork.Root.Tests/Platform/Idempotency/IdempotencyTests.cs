using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Redis;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shouldly;
using StackExchange.Redis;
using Xunit;

namespace Apptork.Root.Tests.Platform.Idempotency;

/// <summary>Where the keys live: the database (embedded shape, or no Redis configured), or Redis.</summary>
public enum KeyStore
{
    Database,
    Redis,
}

/// <summary>The Idempotency-Key on a money-moving POST (a test-only route), with the keys in each store.</summary>
public sealed class IdempotencyTests(PostgresServer postgres, RedisServer redis)
{
    private const string Charges = "/__probe/charges";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape, KeyStore> Stores => new()
    {
        { DatabaseShape.Sqlite, KeyStore.Database },
        { DatabaseShape.Postgres, KeyStore.Database },
        { DatabaseShape.Postgres, KeyStore.Redis },
    };

    private static RootApp.TestExtensions Probe { get; } = new(endpoints =>
        endpoints.MapPost(Charges, async (ChargeBody body, HttpContext context, Ledger ledger, CancellationToken cancellationToken) =>
        {
            // A fresh ledger key per run: only the HTTP layer's idempotency may stop a second posting here.
            var posting = await ledger.PostAsync(context.User.UserId(), body.Amount, LedgerEntryKind.Adjustment, Guid.NewGuid().ToString("N"), null, "probe", null, cancellationToken);
            return TypedResults.Created((string?)null, new { entry_id = posting.Entry.Id, balance = posting.Entry.BalanceAfter });
        }).RequireAuthorization().Idempotent());

    [Theory, MemberData(nameof(Stores))]
    public async Task A_replay_returns_the_first_answer_and_moves_nothing(DatabaseShape shape, KeyStore store)
    {
        await using var app = await StartAsync(shape, store);
        var auth = new AuthClient(app);
        var token = (await auth.SignInAsync("replay@example.com")).AccessToken;

        using var first = await ChargeAsync(auth, token, "key-1", 40);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var firstBody = await first.Content.ReadAsStringAsync(Cancel);
        using var replay = await ChargeAsync(auth, token, "key-1", 40);
        replay.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await replay.Content.ReadAsStringAsync(Cancel)).ShouldBe(firstBody);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await EntriesAsync(app)).ShouldBe(1);

        using var reused = await ChargeAsync(auth, token, "key-1", 41);
        await ErrorAssert.SingleAsync(reused, (HttpStatusCode)422, "client_error", "idempotency_key_reused", "idempotency_key");

        var other = (await auth.SignInAsync("other@example.com")).AccessToken;
        using var otherUser = await ChargeAsync(auth, other, "key-1", 40);
        otherUser.StatusCode.ShouldBe(HttpStatusCode.Created, "keys are scoped per user");
        (await EntriesAsync(app)).ShouldBe(2);
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Racing_replays_run_the_request_once(DatabaseShape shape, KeyStore store)
    {
        await using var app = await StartAsync(shape, store);
        var auth = new AuthClient(app);
        var token = (await auth.SignInAsync("race@example.com")).AccessToken;

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ChargeAsync(auth, token, "same", 5)));
        responses.ShouldAllBe(response => response.StatusCode == HttpStatusCode.Created || response.StatusCode == HttpStatusCode.Conflict);
        foreach (var busy in responses.Where(response => response.StatusCode == HttpStatusCode.Conflict))
        {
            (await ErrorAssert.ReadAsync(busy)).Errors.ShouldHaveSingleItem().Code.ShouldBe("idempotency_request_in_progress");
            busy.Headers.RetryAfter.ShouldNotBeNull();
        }

        (await EntriesAsync(app)).ShouldBe(1);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task A_failed_request_releases_its_key_and_a_missing_key_is_required(DatabaseShape shape, KeyStore store)
    {
        await using var app = await StartAsync(shape, store);
        var auth = new AuthClient(app);
        var token = (await auth.SignInAsync("retry@example.com")).AccessToken;

        using (var refused = await ChargeAsync(auth, token, "debit", -10))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.PaymentRequired, "client_error", "invalid_credit", "credits");
        }

        (await ChargeAsync(auth, token, "top-up", 25)).Dispose();
        using (var retried = await ChargeAsync(auth, token, "debit", -10))
        {
            retried.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var missing = await ChargeAsync(auth, token, key: null, 1);
        await ErrorAssert.SingleAsync(missing, HttpStatusCode.BadRequest, "validation_error", "required", "idempotency_key");
    }

    [Fact]
    public async Task The_openapi_document_requires_the_header_on_idempotent_operations()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, extensions: Probe);
        using var document = JsonDocument.Parse(await app.Client().GetStringAsync("/openapi/v1.json", Cancel));
        var parameters = document.RootElement.GetProperty("paths").GetProperty(Charges).GetProperty("post").GetProperty("parameters");
        // Declared once in components and referenced where required.
        parameters.EnumerateArray().Select(parameter => parameter.TryGetProperty("$ref", out var reference) ? reference.GetString() : null)
            .ShouldContain($"#/components/parameters/{IdempotencyMiddleware.Header}");
        var header = document.RootElement.GetProperty("components").GetProperty("parameters").GetProperty(IdempotencyMiddleware.Header);
        header.GetProperty("name").GetString().ShouldBe(IdempotencyMiddleware.Header);
        header.GetProperty("in").GetString().ShouldBe("header");
        header.GetProperty("required").GetBoolean().ShouldBeTrue();
        var responses = document.RootElement.GetProperty("paths").GetProperty(Charges).GetProperty("post").GetProperty("responses");
        responses.GetProperty("422").GetProperty("description").GetString().ShouldNotBeNull().ShouldContain("idempotency_key_reused");
    }

    [Theory]
    [InlineData(KeyStore.Database)]
    [InlineData(KeyStore.Redis)]
    public async Task A_key_is_held_by_one_request_until_its_answer_is_kept_or_it_is_released(KeyStore store)
    {
        await using var app = await StartAsync(DatabaseShape.Postgres, store);
        await using var scope = app.Services.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<IIdempotencyStore>();
        keys.ShouldBeOfType(store == KeyStore.Redis ? typeof(RedisIdempotencyStore) : typeof(DatabaseIdempotencyStore));
        var request = new IdempotentRequest(Guid.NewGuid(), "contract", [1, 2, 3], DateTimeOffset.UtcNow);

        var first = await keys.ClaimAsync(request, Cancel);
        first.IsClaimed.ShouldBeTrue();
        var whileRunning = await keys.ClaimAsync(request with { RequestHash = [9] }, Cancel);
        whileRunning.Earlier.ShouldNotBeNull().RequestHash.ShouldBe(request.RequestHash, "the first request's digest, for the middleware to compare");
        whileRunning.Earlier.Answer.ShouldBeNull("the first request has not answered yet");

        await keys.ReleaseAsync(request, first.Token + 1);
        (await keys.ClaimAsync(request, Cancel)).IsClaimed.ShouldBeFalse("a claim that is not the holder's releases nothing");
        await keys.ReleaseAsync(request, first.Token);
        var retried = await keys.ClaimAsync(request, Cancel);
        retried.IsClaimed.ShouldBeTrue("a released key is free again");

        await keys.KeepAsync(request, retried.Token, new KeptAnswer(201, "application/json", "{\"id\":7}"u8.ToArray()));
        await keys.ReleaseAsync(request, retried.Token);
        var replay = (await keys.ClaimAsync(request, Cancel)).Earlier.ShouldNotBeNull().Answer.ShouldNotBeNull("a kept answer is never released");
        (replay.StatusCode, replay.ContentType, Encoding.UTF8.GetString(replay.Body)).ShouldBe((201, "application/json", "{\"id\":7}"));
    }

    [Fact]
    public async Task In_the_database_a_claim_abandoned_for_five_minutes_is_taken_over()
    {
        await using var app = await StartAsync(DatabaseShape.Postgres, KeyStore.Database);
        await using var scope = app.Services.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<IIdempotencyStore>();
        var crashed = new IdempotentRequest(Guid.NewGuid(), "crashed", [4], DateTimeOffset.UtcNow);
        (await keys.ClaimAsync(crashed, Cancel)).IsClaimed.ShouldBeTrue();

        var soon = crashed with { StartedAt = crashed.StartedAt + IdempotencyMiddleware.AbandonedAfter - TimeSpan.FromSeconds(1) };
        (await keys.ClaimAsync(soon, Cancel)).IsClaimed.ShouldBeFalse();
        var later = crashed with { StartedAt = crashed.StartedAt + IdempotencyMiddleware.AbandonedAfter + TimeSpan.FromSeconds(1) };
        (await keys.ClaimAsync(later with { RequestHash = [5] }, Cancel)).IsClaimed.ShouldBeFalse("only the same request may take over");
        (await keys.ClaimAsync(later, Cancel)).IsClaimed.ShouldBeTrue();
    }

    [Fact]
    public async Task In_Redis_a_key_is_a_digest_that_lapses_five_minutes_after_its_claim_and_a_day_after_its_answer()
    {
        var prefix = $"test-{Guid.NewGuid():N}:";
        await using var app = await StartAsync(DatabaseShape.Postgres, KeyStore.Redis, prefix);
        var auth = new AuthClient(app);
        var token = (await auth.SignInAsync("digest@example.com")).AccessToken;
        using (var charged = await ChargeAsync(auth, token, "visible-key", 3))
        {
            charged.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var server = connection.GetServer(connection.GetEndPoints().Single());
        var answered = server.Keys(pattern: $"{prefix}idempotency:*").ShouldHaveSingleItem();
        answered.ToString().ShouldNotContain("visible-key");
        var answerLifetime = (await connection.GetDatabase().KeyTimeToLiveAsync(answered)).ShouldNotBeNull();
        answerLifetime.ShouldBeInRange(IdempotencyMiddleware.Retention - TimeSpan.FromMinutes(1), IdempotencyMiddleware.Retention);

        await using var scope = app.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<IIdempotencyStore>()
            .ClaimAsync(new IdempotentRequest(Guid.NewGuid(), "running", [6], DateTimeOffset.UtcNow), Cancel)).IsClaimed.ShouldBeTrue();
        var running = server.Keys(pattern: $"{prefix}idempotency:*").Where(key => key != answered).ShouldHaveSingleItem();
        var claimLifetime = (await connection.GetDatabase().KeyTimeToLiveAsync(running)).ShouldNotBeNull();
        claimLifetime.ShouldBeInRange(IdempotencyMiddleware.AbandonedAfter - TimeSpan.FromMinutes(1), IdempotencyMiddleware.AbandonedAfter);
        (await scope.ServiceProvider.GetRequiredService<RootDbContext>().IdempotencyRecords.CountAsync(Cancel)).ShouldBe(0);
    }

    [Fact]
    public async Task With_Redis_unreachable_keys_are_claimed_and_answered_from_the_database()
    {
        var database = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        string token;
        // Signing in needs Redis (its code throttles fail closed): done by a process that has it, on the same database.
        await using (var signIn = await RootApp.StartOnAsync(DatabaseShape.Postgres, database, RedisSettings(redis.ConnectionString)))
        {
            token = (await new AuthClient(signIn).SignInAsync("no-redis@example.com")).AccessToken;
        }

        await using var app = await RootApp.StartOnAsync(
            DatabaseShape.Postgres, database, RedisSettings($"127.0.0.1:{ServerHost.FreeLoopbackPort()}"), Probe);
        var auth = new AuthClient(app);
        using var first = await ChargeAsync(auth, token, "outage", 8);
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var replay = await ChargeAsync(auth, token, "outage", 8);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await replay.Content.ReadAsStringAsync(Cancel)).ShouldBe(await first.Content.ReadAsStringAsync(Cancel));
        (await EntriesAsync(app)).ShouldBe(1);
        await using var scope = app.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<RootDbContext>().IdempotencyRecords.CountAsync(Cancel)).ShouldBe(1);
        app.Logs.Entries.Count(entry => entry.Level == LogLevel.Warning && entry.Message.StartsWith("Redis is unreachable", StringComparison.Ordinal))
            .ShouldBe(1, "an outage is one warning per 30 s, not one per request");
    }

    [Fact]
    public async Task A_key_Redis_still_shows_in_progress_after_an_outage_replays_the_answer_kept_in_the_database()
    {
        var database = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        string token;
        await using (var signIn = await RootApp.StartOnAsync(DatabaseShape.Postgres, database, RedisSettings(redis.ConnectionString)))
        {
            token = (await new AuthClient(signIn).SignInAsync("lost-outcome@example.com")).AccessToken;
        }

        // Answered while Redis was unreachable: the key claimed and its answer kept in the database.
        string firstBody;
        await using (var outage = await RootApp.StartOnAsync(DatabaseShape.Postgres, database, RedisSettings($"127.0.0.1:{ServerHost.FreeLoopbackPort()}"), Probe))
        {
            using var first = await ChargeAsync(new AuthClient(outage), token, "lost-outcome", 4);
            first.StatusCode.ShouldBe(HttpStatusCode.Created);
            firstBody = await first.Content.ReadAsStringAsync(Cancel);
        }

        // Yet the claim script had reached Redis, whose answer timed out: there the key is in progress.
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Postgres, database, RedisSettings(redis.ConnectionString), Probe);
        var record = await new WalletBooks(app).WithDbAsync(db => db.IdempotencyRecords.AsNoTracking().SingleAsync(Cancel));
        var key = app.Services.GetRequiredService<RedisKeys>().Named("idempotency", $"{record.UserId:N}:{record.Key}");
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await connection.GetDatabase().HashSetAsync(key, [new("hash", record.RequestHash), new("claim", 12345)]);

        using var replay = await ChargeAsync(new AuthClient(app), token, "lost-outcome", 4);
        replay.StatusCode.ShouldBe(HttpStatusCode.Created);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await replay.Content.ReadAsStringAsync(Cancel)).ShouldBe(firstBody);
        (await EntriesAsync(app)).ShouldBe(1);
    }

    /// <summary>The app on the shape's database, with its keys in Redis (under a prefix of this test's own) when asked.</summary>
    private async Task<RootApp> StartAsync(DatabaseShape shape, KeyStore store, string? prefix = null) =>
        await RootApp.StartAsync(TestDatabases.For(postgres), shape, store == KeyStore.Redis ? RedisSettings(redis.ConnectionString, prefix) : null, Probe);

    private static Dictionary<string, string?> RedisSettings(string address, string? prefix = null) => new()
    {
        ["ConnectionStrings:Redis"] = address,
        ["Redis:KeyPrefix"] = prefix ?? $"test-{Guid.NewGuid():N}:",
    };

    private static Task<HttpResponseMessage> ChargeAsync(AuthClient auth, string token, string? key, long amount)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Charges) { Content = JsonContent.Create(new { amount }) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (key is not null)
        {
            request.Headers.Add(IdempotencyMiddleware.Header, key);
        }

        return auth.Http.SendAsync(request, Cancel);
    }

    private static async Task<int> EntriesAsync(RootApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RootDbContext>().LedgerEntries.CountAsync(entry => entry.Reference == null && entry.Operator == "probe", Cancel);
    }

    private sealed record ChargeBody(long Amount);
}
