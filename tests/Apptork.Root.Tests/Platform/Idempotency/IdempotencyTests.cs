using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Idempotency;

/// <summary>SPEC 7's Idempotency-Key on a money-moving POST (a test-only route until checkout and generations exist).</summary>
public sealed class IdempotencyTests(PostgresServer postgres)
{
    private const string Charges = "/__probe/charges";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    private static RootApp.TestExtensions Probe { get; } = new(endpoints =>
        endpoints.MapPost(Charges, async (ChargeBody body, HttpContext context, Ledger ledger, CancellationToken cancellationToken) =>
        {
            // A fresh ledger key per run: only the HTTP layer's idempotency may stop a second posting here.
            var posting = await ledger.PostAsync(context.User.UserId(), body.Amount, LedgerEntryKind.Adjustment, Guid.NewGuid().ToString("N"), null, "probe", null, cancellationToken);
            return TypedResults.Created((string?)null, new { entry_id = posting.Entry.Id, balance = posting.Entry.BalanceAfter });
        }).RequireAuthorization().Idempotent());

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_replay_returns_the_first_answer_and_moves_nothing(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, extensions: Probe);
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

    [Theory, MemberData(nameof(Shapes))]
    public async Task Racing_replays_run_the_request_once(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, extensions: Probe);
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

    [Fact]
    public async Task A_failed_request_releases_its_key_and_a_missing_key_is_required()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, extensions: Probe);
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
        var header = parameters.EnumerateArray().Single(parameter => parameter.GetProperty("name").GetString() == IdempotencyMiddleware.Header);
        header.GetProperty("in").GetString().ShouldBe("header");
        header.GetProperty("required").GetBoolean().ShouldBeTrue();
        var responses = document.RootElement.GetProperty("paths").GetProperty(Charges).GetProperty("post").GetProperty("responses");
        responses.GetProperty("422").GetProperty("description").GetString().ShouldNotBeNull().ShouldContain("idempotency_key_reused");
    }

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
