using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Wallet;

public sealed class LedgerTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Credits_and_debits_move_the_balance_and_chain_their_entries(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("spender@example.com")).User.Id;
        var books = new WalletBooks(app);

        var bought = await books.PostAsync(user, 100, "purchase-1", LedgerEntryKind.Purchase, "pi_123");
        bought.IsReplay.ShouldBeFalse();
        bought.Entry.BalanceAfter.ShouldBe(100);
        (await books.PostAsync(user, -30, "generation-1")).Entry.BalanceAfter.ShouldBe(70);
        (await books.PostAsync(user, -20, "generation-2")).Entry.BalanceAfter.ShouldBe(50);
        (await books.PostAsync(user, 5, "refund-1", LedgerEntryKind.Refund, "generation-2")).Entry.BalanceAfter.ShouldBe(55);
        (await books.PostAsync(user, -7, "adjustment-1", LedgerEntryKind.Adjustment, null, "ops@example.com", "Duplicate promo credit"))
            .Entry.BalanceAfter.ShouldBe(48);

        await books.ShouldAddUpAsync(user, 48);
        var entries = await books.EntriesAsync(user);
        entries.Select(entry => (entry.Amount, entry.Kind, entry.Reference, entry.Operator, entry.Memo)).ShouldBe([
            (100, LedgerEntryKind.Purchase, "pi_123", null, null), (-30, LedgerEntryKind.Generation, null, null, null),
            (-20, LedgerEntryKind.Generation, null, null, null), (5, LedgerEntryKind.Refund, "generation-2", null, null),
            (-7, LedgerEntryKind.Adjustment, null, "ops@example.com", "Duplicate promo credit"),
        ]);
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_debit_beyond_the_balance_is_402_invalid_credit_and_changes_nothing(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, extensions: DebitEndpoint);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("short@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 10, "bonus", LedgerEntryKind.SignupBonus);

        using (var refused = await auth.SendAsync(HttpMethod.Post, "/test/wallet/debit", signedIn.AccessToken, new { credits = 11, key = "too-much" }))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.PaymentRequired);
            await ErrorAssert.ReadAsync(refused);
            JsonNode.DeepEquals(JsonNode.Parse(await refused.Content.ReadAsStringAsync(Cancel)), JsonNode.Parse(
                """{"type":"client_error","errors":[{"code":"invalid_credit","detail":"Insufficient balance for this operation.","attr":"credits"}]}"""))
                .ShouldBeTrue();
        }

        var french = new AuthClient(app, "fr");
        using (var refused = await french.SendAsync(HttpMethod.Post, "/test/wallet/debit", signedIn.AccessToken, new { credits = 11, key = "too-much" }))
        {
            var error = await ErrorAssert.SingleAsync(refused, HttpStatusCode.PaymentRequired, "client_error", "invalid_credit", "credits");
            error.Detail.ShouldBe("Solde insuffisant pour cette opération.");
        }

        // A debit without any wallet row yet is refused the same way, and creates none.
        var newcomer = await auth.SignInAsync("penniless@example.com");
        using (var refused = await auth.SendAsync(HttpMethod.Post, "/test/wallet/debit", newcomer.AccessToken, new { credits = 1, key = "first" }))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.PaymentRequired, "client_error", "invalid_credit", "credits");
        }

        (await books.BalanceAsync(newcomer.User.Id)).ShouldBeNull();
        await books.ShouldAddUpAsync(signedIn.User.Id, 10);
        (await books.EntriesAsync(signedIn.User.Id)).ShouldHaveSingleItem();

        using var spent = await auth.SendAsync(HttpMethod.Post, "/test/wallet/debit", signedIn.AccessToken, new { credits = 10, key = "all-of-it" });
        spent.StatusCode.ShouldBe(HttpStatusCode.OK);
        await books.ShouldAddUpAsync(signedIn.User.Id, 0);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_replayed_idempotency_key_returns_the_first_entry_and_changes_nothing(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("retrier@example.com")).User.Id;
        var books = new WalletBooks(app);
        var first = await books.PostAsync(user, 50, "pay-1", LedgerEntryKind.Purchase, "pi_1");
        var debit = await books.PostAsync(user, -50, "gen-1");

        var replay = await books.PostAsync(user, 50, "pay-1", LedgerEntryKind.Purchase, "pi_1");
        replay.IsReplay.ShouldBeTrue();
        replay.Entry.Id.ShouldBe(first.Entry.Id);
        replay.Entry.BalanceAfter.ShouldBe(50);

        // The balance is 0 now, yet the replayed debit is answered with its original entry, not a 402.
        var debitReplay = await books.PostAsync(user, -50, "gen-1");
        debitReplay.IsReplay.ShouldBeTrue();
        debitReplay.Entry.Id.ShouldBe(debit.Entry.Id);

        var reused = await Should.ThrowAsync<ApiException>(() => books.PostAsync(user, 60, "pay-1", LedgerEntryKind.Purchase, "pi_1"));
        reused.Errors.ShouldHaveSingleItem().Definition.ShouldBe(ErrorCatalog.IdempotencyKeyReused);
        reused.Status.ShouldBe(422);

        // Keys are scoped per user: another user's "pay-1" is their own.
        var other = (await new AuthClient(app).SignInAsync("other@example.com")).User.Id;
        (await books.PostAsync(other, 7, "pay-1")).IsReplay.ShouldBeFalse();

        await books.ShouldAddUpAsync(user, 0);
        (await books.EntriesAsync(user)).Count.ShouldBe(2);
        await books.ShouldAddUpAsync(other, 7);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Parallel_debits_beyond_the_balance_succeed_exactly_as_far_as_it_goes(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("crowd@example.com")).User.Id;
        var books = new WalletBooks(app);
        await books.PostAsync(user, 10, "bonus", LedgerEntryKind.SignupBonus);

        using var start = new ManualResetEventSlim();
        var debits = Enumerable.Range(0, 32).Select(index => Task.Run(async () =>
        {
            start.Wait(Cancel);
            try
            {
                await books.PostAsync(user, -1, $"debit-{index}");
                return true;
            }
            catch (ApiException refused) when (refused.Errors[0].Definition == ErrorCatalog.InvalidCredit)
            {
                return false;
            }
        }, Cancel)).ToArray();
        start.Set();
        var outcomes = await Task.WhenAll(debits);

        outcomes.Count(succeeded => succeeded).ShouldBe(10);
        await books.ShouldAddUpAsync(user, 0);
        (await books.EntriesAsync(user)).Count.ShouldBe(11);
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Parallel_postings_with_one_idempotency_key_write_one_entry(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("double.click@example.com")).User.Id;
        var books = new WalletBooks(app);

        using var start = new ManualResetEventSlim();
        var postings = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            start.Wait(Cancel);
            return await books.PostAsync(user, 25, "same-payment", LedgerEntryKind.Purchase, "pi_same");
        }, Cancel)).ToArray();
        start.Set();
        var results = await Task.WhenAll(postings);

        results.Select(result => result.Entry.Id).Distinct().ShouldHaveSingleItem();
        results.Count(result => !result.IsReplay).ShouldBe(1);
        await books.ShouldAddUpAsync(user, 25);
        (await books.EntriesAsync(user)).ShouldHaveSingleItem();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_database_refuses_a_negative_balance_and_rewritten_history_written_around_the_ledger(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var user = (await new AuthClient(app).SignInAsync("direct@example.com")).User.Id;
        var books = new WalletBooks(app);
        await books.PostAsync(user, 3, "bonus", LedgerEntryKind.SignupBonus);

        var negative = await Should.ThrowAsync<Exception>(() => books.WithDbAsync(db =>
            db.Wallets.Where(wallet => wallet.UserId == user).ExecuteUpdateAsync(set => set.SetProperty(wallet => wallet.Balance, -1L), Cancel)));
        negative.Message.ShouldContain("ck_wallets_balance_not_negative", Case.Insensitive);

        var rewritten = await Should.ThrowAsync<Exception>(() => books.WithDbAsync(db =>
            db.LedgerEntries.Where(entry => entry.UserId == user).ExecuteUpdateAsync(set => set.SetProperty(entry => entry.Amount, 300L), Cancel)));
        rewritten.Message.ShouldContain("append-only");
        var deleted = await Should.ThrowAsync<Exception>(() => books.WithDbAsync(db =>
            db.LedgerEntries.Where(entry => entry.UserId == user).ExecuteDeleteAsync(Cancel)));
        deleted.Message.ShouldContain("append-only");

        await books.ShouldAddUpAsync(user, 3);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Reconciliation_reports_a_drift_planted_in_the_database(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var tampered = (await auth.SignInAsync("tampered@example.com")).User.Id;
        var rewritten = (await auth.SignInAsync("rewritten@example.com")).User.Id;
        var honest = (await auth.SignInAsync("honest@example.com")).User.Id;
        var books = new WalletBooks(app);
        foreach (var user in new[] { tampered, rewritten, honest })
        {
            await books.PostAsync(user, 40, "pay");
            await books.PostAsync(user, -15, "gen-1");
            await books.PostAsync(user, -5, "gen-2");
        }

        (await books.ReconcileAsync()).ShouldBeEmpty();

        // Credits that appeared without an entry; and an entry slipped in with a wrong balance_after, the wallet
        // raised to match its amount so that only the broken chain gives it away.
        await books.WithDbAsync(db => db.Wallets.Where(wallet => wallet.UserId == tampered)
            .ExecuteUpdateAsync(set => set.SetProperty(wallet => wallet.Balance, wallet => wallet.Balance + 1000), Cancel));
        var planted = new LedgerEntry(rewritten, 5, 0, 999, LedgerEntryKind.Adjustment, "planted", null, "nobody", null, DateTimeOffset.UtcNow);
        await books.WithDbAsync(async db =>
        {
            db.LedgerEntries.Add(planted);
            await db.Wallets.Where(wallet => wallet.UserId == rewritten)
                .ExecuteUpdateAsync(set => set.SetProperty(wallet => wallet.Balance, wallet => wallet.Balance + 5), Cancel);
            return await db.SaveChangesAsync(Cancel);
        });
        // Credits set aside without the hold entry that explains it.
        await books.WithDbAsync(db => db.Wallets.Where(wallet => wallet.UserId == honest)
            .ExecuteUpdateAsync(set => set.SetProperty(wallet => wallet.Held, 3L), Cancel));

        var drifts = await books.ReconcileAsync();
        drifts.OrderBy(drift => drift.UserId == tampered ? 0 : drift.UserId == rewritten ? 1 : 2).ShouldBe([
            new LedgerDrift(tampered, 1020, 20, 0, 0, null),
            new LedgerDrift(rewritten, 25, 25, 0, 0, planted.Id),
            new LedgerDrift(honest, 20, 20, 3, 0, null),
        ]);
    }

    /// <summary>A debit over HTTP, as the generation and checkout features will post one, to see the 402 the client gets.</summary>
    private static readonly RootApp.TestExtensions DebitEndpoint = new(Endpoints: routes =>
        routes.MapPost("/test/wallet/debit", async (DebitBody body, HttpContext context, Ledger ledger, CancellationToken cancellationToken) =>
        {
            var posting = await ledger.PostAsync(context.User.UserId(), -body.Credits, LedgerEntryKind.Generation, body.Key, null, null, null, cancellationToken);
            return TypedResults.Ok(new { balance_after = posting.Entry.BalanceAfter });
        }).RequireAuthorization());

    private sealed record DebitBody(long Credits, string Key);
}
