using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>The wallet screen: finance's adjustments through the ledger, refused when they must be, audited when applied.</summary>
public sealed class AdminWalletTests(PostgresServer postgres)
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 180_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task An_adjustment_posts_once_through_the_ledger_with_its_audit_row_and_refusals_change_nothing(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var user = await auth.SignInAsync("customer@example.com");
        var books = new WalletBooks(app);
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        // No reason: the field's message, nothing posted.
        var form = await FormAsync(browser, "customer@example.com");
        form.Balance.ShouldBe(0);
        (await AdjustAsync(browser, form, 50, reason: " ")).ShouldContain("Reason: say why; it is kept in the audit log.");
        (await books.EntriesAsync(user.User.Id)).ShouldBeEmpty();

        // Applied: the user's own wallet shows it, one adjustment entry naming the operator, one audit row.
        form = await FormAsync(browser, user.User.Id.ToString());
        (await AdjustAsync(browser, form, 50, "goodwill after an outage")).ShouldContain("The balance was adjusted.");
        (await WalletBalanceAsync(auth, user.AccessToken)).ShouldBe(50);
        var entry = (await books.EntriesAsync(user.User.Id)).ShouldHaveSingleItem();
        (entry.Amount, entry.Kind, entry.Operator, entry.Memo).ShouldBe((50L, LedgerEntryKind.Adjustment, finance.Email, "goodwill after an outage"));
        var audit = (await WalletAuditAsync(app)).ShouldHaveSingleItem();
        (audit.StaffId, audit.Reason, audit.Before, audit.After).ShouldBe((finance.Id, "goodwill after an outage", "{\"Balance\":0}", "{\"Balance\":50,\"Amount\":50}"));

        // The same form again (a double submit): still one entry and one audit row.
        (await AdjustAsync(browser, form, 50, "goodwill after an outage")).ShouldContain("The balance was adjusted.");
        (await AdjustAsync(browser, form, 500, "goodwill after an outage")).ShouldContain("The balance changed since this form was shown");
        (await books.EntriesAsync(user.User.Id)).Count.ShouldBe(1);
        (await WalletAuditAsync(app)).Count.ShouldBe(1);

        // A form showing an older balance: refused, nothing changed.
        var stale = form with { Nonce = Guid.NewGuid().ToString() };
        (await AdjustAsync(browser, stale, 5, "second thoughts")).ShouldContain("The balance changed since this form was shown");
        (await books.BalanceAsync(user.User.Id)).ShouldBe(50);

        // Below zero: the API's insufficient-credit text, nothing changed.
        form = await FormAsync(browser, "CUSTOMER@example.com");
        form.Balance.ShouldBe(50);
        (await AdjustAsync(browser, form, -51, "chargeback")).ShouldContain(WebUtility.HtmlEncode("Insufficient balance for this operation."));
        (await AdjustAsync(browser, form with { Nonce = Guid.NewGuid().ToString() }, 0, "nothing")).ShouldContain("Credits: enter a whole number other than 0");
        (await books.EntriesAsync(user.User.Id)).Count.ShouldBe(1);
        (await WalletAuditAsync(app)).Count.ShouldBe(1);

        // A debit the balance covers is applied, and the books still reconcile.
        (await AdjustAsync(browser, form with { Nonce = Guid.NewGuid().ToString() }, -20, "duplicate goodwill")).ShouldContain("The balance was adjusted.");
        (await WalletBalanceAsync(auth, user.AccessToken)).ShouldBe(30);
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task Support_is_refused_the_wallet_screen_and_its_adjustment_changes_nothing()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-wallet"));
        var user = await new AuthClient(app).SignInAsync("customer@example.com");
        var support = await StaffSeed.EnrolledAsync(app, "support@example.com", StaffRoles.Support);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(support.Email, support.Password, support.NextCode());

        (await browser.GetAsync($"{Admin}/wallet?user=customer@example.com")).Status.ShouldBe(HttpStatusCode.Forbidden);
        var (dashboard, _, _) = await browser.GetAsync(Admin);
        dashboard.ShouldBe(HttpStatusCode.OK);
        var posted = await browser.PostAsync($"{Admin}/wallet?handler=Adjust", new Dictionary<string, string>
        {
            ["UserId"] = user.User.Id.ToString(), ["ExpectedBalance"] = "0", ["Nonce"] = Guid.NewGuid().ToString(), ["Amount"] = "50", ["Reason"] = "sneaky",
        });
        posted.Status.ShouldBe(HttpStatusCode.Forbidden);
        (await new WalletBooks(app).EntriesAsync(user.User.Id)).ShouldBeEmpty();
        (await WalletAuditAsync(app)).ShouldBeEmpty();
    }

    private sealed record AdjustForm(string UserId, long Balance, string Nonce);

    private static async Task<AdjustForm> FormAsync(AdminClient browser, string user)
    {
        var (status, body, _) = await browser.GetAsync($"{Admin}/wallet?user={Uri.EscapeDataString(user)}");
        status.ShouldBe(HttpStatusCode.OK);
        return new AdjustForm(Hidden(body, "UserId"), long.Parse(Hidden(body, "ExpectedBalance"), System.Globalization.CultureInfo.InvariantCulture), Hidden(body, "Nonce"));
    }

    private static async Task<string> AdjustAsync(AdminClient browser, AdjustForm form, long amount, string reason)
    {
        var (status, body, _) = await browser.PostAsync($"{Admin}/wallet?handler=Adjust", new Dictionary<string, string>
        {
            ["UserId"] = form.UserId, ["ExpectedBalance"] = form.Balance.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Nonce"] = form.Nonce, ["Amount"] = amount.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Reason"] = reason,
        });
        status.ShouldBe(HttpStatusCode.OK);
        return body;
    }

    private static async Task<long> WalletBalanceAsync(AuthClient auth, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/wallet");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await auth.Http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        return json.RootElement.GetProperty("balance").GetInt64();
    }

    private static async Task<List<AdminAuditEntry>> WalletAuditAsync(RootApp app) =>
        (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action == AdminActions.WalletAdjusted).ToList();

    private static string Hidden(string body, string name)
    {
        var match = Regex.Match(body, $"name=\"{name}\" value=\"([^\"]*)\"");
        match.Success.ShouldBeTrue($"no hidden {name} field");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }
}
