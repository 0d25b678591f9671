using System.Net;
using System.Net.Http.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Wallet;

public sealed class WalletEndpointTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_wallet_shows_the_balance_and_zero_before_the_first_credit(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("balance@example.com");

        using (var anonymous = await auth.Http.GetAsync("/api/v1/wallet", Cancel))
        {
            await ErrorAssert.SingleAsync(anonymous, HttpStatusCode.Unauthorized, "client_error", "not_authenticated");
        }

        (await GetWalletAsync(auth, signedIn.AccessToken)).ShouldBe(new WalletBody(0, 0, 0, null));

        var posted = await new WalletBooks(app).PostAsync(signedIn.User.Id, 120, "bonus", LedgerEntryKind.SignupBonus);
        var wallet = await GetWalletAsync(auth, signedIn.AccessToken);
        (wallet.Balance, wallet.Held, wallet.Available).ShouldBe((120L, 0L, 120L));
        wallet.UpdatedAt!.Value.ShouldBe(posted.Entry.CreatedAt, TimeSpan.FromMilliseconds(1));
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Transactions_page_newest_first_and_filter_by_kind_and_dates(DatabaseShape shape)
    {
        // Entries a day apart, from ten days ago: the clock moves the ledger's timestamps, then returns to today for the token.
        var today = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var day0 = new DateTimeOffset(today.UtcDateTime.Date, TimeSpan.Zero).AddDays(-10);
        var clock = new FakeTimeProvider(day0);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        var user = (await auth.SignInAsync("history@example.com")).User.Id;
        var books = new WalletBooks(app);
        var postings = new (long Amount, LedgerEntryKind Kind)[]
        {
            (50, LedgerEntryKind.SignupBonus), (-10, LedgerEntryKind.Generation), (100, LedgerEntryKind.Purchase),
            (-20, LedgerEntryKind.Generation), (10, LedgerEntryKind.Refund),
        };
        foreach (var (posting, index) in postings.Select((posting, index) => (posting, index)))
        {
            clock.SetUtcNow(day0.AddDays(index).AddHours(12));
            await books.PostAsync(user, posting.Amount, $"entry-{index}", posting.Kind, $"ref-{index}", memo: $"memo {index}");
        }

        clock.SetUtcNow(today);
        var token = (await auth.SignInAsync("history@example.com")).AccessToken;

        var first = await ListAsync(auth, token, "?limit=2");
        first.Results.Select(entry => (entry.Amount, entry.BalanceAfter, entry.Kind)).ShouldBe([(10L, 130L, "refund"), (-20L, 120L, "generation")]);
        first.Results[0].Reference.ShouldBe("ref-4");
        first.Results[0].Memo.ShouldBe("memo 4");
        first.NextCursor.ShouldNotBeNull();
        var second = await ListAsync(auth, token, $"?limit=2&cursor={first.NextCursor}");
        second.Results.Select(entry => entry.Amount).ShouldBe([100L, -10L]);
        var last = await ListAsync(auth, token, $"?limit=2&cursor={second.NextCursor}");
        last.Results.Select(entry => entry.Amount).ShouldBe([50L]);
        last.NextCursor.ShouldBeNull();
        last.Results[0].CreatedAt.ShouldBe(day0.AddHours(12));

        (await ListAsync(auth, token, "?kind=generation")).Results.Select(entry => entry.Amount).ShouldBe([-20L, -10L]);
        var from = day0.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var to = day0.AddDays(3).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        (await ListAsync(auth, token, $"?from={from}&to={to}")).Results.Select(entry => entry.Amount).ShouldBe([100L, -10L]);
        (await ListAsync(auth, token, $"?kind=generation&from={from}&to={to}")).Results.Select(entry => entry.Amount).ShouldBe([-10L]);
        (await ListAsync(auth, token, $"?from={Uri.EscapeDataString(day0.AddDays(4).AddHours(12).ToString("O"))}")).Results.Select(entry => entry.Amount).ShouldBe([10L]);

        // Another user sees only their own entries.
        var stranger = await auth.SignInAsync("stranger@example.com");
        (await ListAsync(auth, stranger.AccessToken, string.Empty)).Results.ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Transaction_filters_are_validated_field_by_field(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app, "de");
        var token = (await auth.SignInAsync("filters@example.com")).AccessToken;

        using (var bad = await auth.GetAsync("/api/v1/wallet/transactions?kind=bonus&from=yesterday", token))
        {
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var payload = await ErrorAssert.ReadAsync(bad);
            payload.Errors.Select(error => (error.Code, error.Attr)).ShouldBe([("invalid_choice", "kind"), ("invalid", "from")], ignoreOrder: true);
        }

        using (var backwards = await auth.GetAsync("/api/v1/wallet/transactions?from=2026-11-02&to=2026-11-01", token))
        {
            await ErrorAssert.SingleAsync(backwards, HttpStatusCode.BadRequest, "validation_error", "invalid", "to");
        }

        using (var cursor = await auth.GetAsync("/api/v1/wallet/transactions?cursor=nonsense", token))
        {
            await ErrorAssert.SingleAsync(cursor, HttpStatusCode.BadRequest, "validation_error", "invalid_cursor", "cursor");
        }

        using var limit = await auth.GetAsync("/api/v1/wallet/transactions?limit=101", token);
        await ErrorAssert.SingleAsync(limit, HttpStatusCode.BadRequest, "validation_error", "max_value", "limit");
    }

    public static async Task<WalletBody> GetWalletAsync(AuthClient auth, string token)
    {
        using var response = await auth.GetAsync("/api/v1/wallet", token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<WalletBody>(TestJson.Options, Cancel))!;
    }

    public static async Task<TransactionPage> ListAsync(AuthClient auth, string token, string query)
    {
        using var response = await auth.GetAsync($"/api/v1/wallet/transactions{query}", token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<TransactionPage>(TestJson.Options, Cancel))!;
    }

    public sealed record WalletBody(long Balance, long Held, long Available, DateTimeOffset? UpdatedAt);

    public sealed record TransactionBody(
        long Id, long Amount, long HeldChange, long BalanceAfter, string Kind, string? Reference, string? Memo, DateTimeOffset CreatedAt);

    public sealed record TransactionPage(IReadOnlyList<TransactionBody> Results, string? NextCursor);
}
