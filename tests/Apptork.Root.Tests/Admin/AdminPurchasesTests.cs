using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Purchases;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Features.Purchases;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>The purchases screen: finance finds a purchase and refunds it through its provider, the credits coming back once through the settlement.</summary>
public sealed partial class AdminPurchasesTests(PostgresServer postgres)
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 240_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task A_stripe_refund_calls_stripe_once_and_takes_the_credits_back_once_with_the_shortfall_rule(DatabaseShape shape)
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, stripe.Settings);
        var buyer = await new AuthClient(app).SignInAsync("refunded.buyer@example.com");
        var user = buyer.User.Id;
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);
        var session = await checkout.StartOkAsync(buyer.AccessToken, "starter");
        var intentId = stripe.CreateIntentFor(session.Id);
        await checkout.DeliverOkAsync(stripe, LocalStripe.SessionCompleted("cs_test_admin_refund", session.Id, intentId));
        await books.PostAsync(user, -70, "generation-1");
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        // The list finds it by the buyer's address and by its status, not by another.
        var (_, list, _) = await browser.GetAsync($"{Admin}/purchases?user={Uri.EscapeDataString(buyer.User.Email!)}&status=Paid&provider=Stripe");
        list.ShouldContain($"{Admin}/purchases/{session.Id}");
        (await browser.GetAsync($"{Admin}/purchases?status=Refunded")).Body.ShouldContain("No purchase matches.");

        // More than was paid: the field's message, nothing asked of Stripe, nothing posted.
        var form = await FormAsync(browser, session.Id);
        form.Body.ShouldContain(intentId);
        (await RefundAsync(browser, session.Id, form, 500, "customer asked")).ShouldContain("Amount: enter a whole number from 1 to 499");
        RefundRequests(stripe).ShouldBeEmpty();
        (await books.EntriesAsync(user)).Count.ShouldBe(2);
        (await RefundAuditAsync(app)).ShouldBeEmpty();

        // A fifth back: Stripe is asked once with the form's key, and ceil(100 × 100 / 499) = 21 credits come back.
        (await RefundAsync(browser, session.Id, form, 100, "customer asked")).ShouldContain("The refund was made and the credits taken back.");
        var request = RefundRequests(stripe).ShouldHaveSingleItem();
        (request.Form["amount"], request.Form["payment_intent"], request.IdempotencyKey)
            .ShouldBe(("100", intentId, PurchaseRefunds.ProviderIdempotencyKey(Guid.Parse(form.Nonce))));
        (await checkout.GetAsync(buyer.AccessToken, session.Id)).Status.ShouldBe("partially_refunded");
        await books.ShouldAddUpAsync(user, 9);
        var audit = (await RefundAuditAsync(app)).ShouldHaveSingleItem();
        (audit.StaffId, audit.Reason, audit.Target).ShouldBe((finance.Id, "customer asked", $"payment:{session.Id} user:{user}"));
        audit.Before.ShouldBe("""{"Status":"Paid","AmountRefunded":0,"CreditsReversed":0,"ShortfallCredits":0}""");
        audit.After!.ShouldContain("\"Amount\":100,\"State\":{\"Status\":\"PartiallyRefunded\",\"AmountRefunded\":100,\"CreditsReversed\":21,\"ShortfallCredits\":0}");

        // The same form again (a double submit): answered as done, nothing asked or posted twice.
        (await RefundAsync(browser, session.Id, form, 100, "customer asked")).ShouldContain("The refund was made and the credits taken back.");
        RefundRequests(stripe).Count.ShouldBe(1);
        (await books.EntriesAsync(user)).Count.ShouldBe(3);
        (await RefundAuditAsync(app)).Count.ShouldBe(1);

        // Stripe's own notification of that refund reports the same cumulative amount: nothing more is taken.
        await checkout.DeliverOkAsync(stripe, LocalStripe.ChargeRefunded(intentId, 499, 100));
        await books.ShouldAddUpAsync(user, 9);

        // A form shown before that refund: refused as stale, nothing asked of Stripe.
        (await RefundAsync(browser, session.Id, form with { Nonce = Guid.NewGuid().ToString() }, 50, "again")).ShouldContain("The purchase changed since this page was shown");
        RefundRequests(stripe).Count.ShouldBe(1);

        // The rest: 79 credits to take back, 9 left in the wallet, 70 booked as shortfall and the user flagged.
        var rest = await FormAsync(browser, session.Id);
        rest.Body.ShouldContain("value=\"399\"");
        (await RefundAsync(browser, session.Id, rest, 399, "the rest")).ShouldContain("The refund was made and the credits taken back.");
        RefundRequests(stripe).Select(refund => refund.Form["amount"]).ShouldBe(["100", "399"]);
        (await checkout.GetAsync(buyer.AccessToken, session.Id)).Status.ShouldBe("refunded");
        await books.ShouldAddUpAsync(user, 0);
        await books.ShouldAddUpAsync(SystemAccounts.Shortfall, 70);
        (await books.EntriesAsync(user)).Select(entry => (entry.Amount, entry.Kind)).ShouldBe([
            (100L, LedgerEntryKind.Purchase), (-70L, LedgerEntryKind.Generation), (-21L, LedgerEntryKind.Reversal), (-9L, LedgerEntryKind.Reversal),
        ]);
        (await books.WithDbAsync(db => db.AccountFlags.CountAsync(flag => flag.UserId == user, Cancel))).ShouldBe(1);

        // Stripe's charge.refunded for the whole amount, after the admin refund: nothing more taken, nothing booked twice.
        await checkout.DeliverOkAsync(stripe, LocalStripe.ChargeRefunded(intentId, 499, 499));
        await books.ShouldAddUpAsync(user, 0);
        await books.ShouldAddUpAsync(SystemAccounts.Shortfall, 70);

        // Nothing is left to refund: the page offers no form, and a refund posted anyway is refused without calling Stripe.
        var done = await FormAsync(browser, session.Id, expectForm: false);
        done.Body.ShouldContain("Nothing of this purchase can be refunded: it was not paid, or all of it went back already.");
        done.Body.ShouldContain(SystemAccounts.Shortfall.ToString());
        var version = await books.WithDbAsync(async db => PurchaseRefunds.Version(await db.Payments.SingleAsync(payment => payment.Id == session.Id, Cancel)));
        var again = new RefundForm(version, Guid.NewGuid().ToString(), done.Body);
        (await RefundAsync(browser, session.Id, again, 1, "one more")).ShouldContain("Nothing of this purchase can be refunded; nothing was done.");
        RefundRequests(stripe).Count.ShouldBe(2);
        (await RefundAuditAsync(app)).Count.ShouldBe(2);
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_refund_stripe_refused_changes_nothing_and_the_same_form_sent_again_refunds_once()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, stripe.Settings);
        var buyer = await new AuthClient(app).SignInAsync("unlucky.buyer@example.com");
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);
        var session = await checkout.StartOkAsync(buyer.AccessToken, "starter");
        var intentId = stripe.CreateIntentFor(session.Id);
        await checkout.DeliverOkAsync(stripe, LocalStripe.SessionCompleted("cs_test_refused_refund", session.Id, intentId));
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());
        // Stripe.net retries a failed request itself: every attempt of the first submit fails.
        stripe.RefundFailures = 10;

        var form = await FormAsync(browser, session.Id);
        var refused = await RefundAsync(browser, session.Id, form, 499, "duplicate purchase");
        refused.ShouldContain("The payment provider did not make the refund; nothing was taken back.");
        Hidden(refused, "Nonce").ShouldBe(form.Nonce);
        (await checkout.GetAsync(buyer.AccessToken, session.Id)).Status.ShouldBe("paid");
        await books.ShouldAddUpAsync(buyer.User.Id, 100);
        (await RefundAuditAsync(app)).ShouldBeEmpty();

        stripe.RefundFailures = 0;
        (await RefundAsync(browser, session.Id, form, 499, "duplicate purchase")).ShouldContain("The refund was made and the credits taken back.");
        RefundRequests(stripe).Select(request => request.IdempotencyKey).Distinct().ShouldBe([PurchaseRefunds.ProviderIdempotencyKey(Guid.Parse(form.Nonce))]);
        (await checkout.GetAsync(buyer.AccessToken, session.Id)).Status.ShouldBe("refunded");
        await books.ShouldAddUpAsync(buyer.User.Id, 0);
        (await RefundAuditAsync(app)).Count.ShouldBe(1);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_development_purchase_is_refunded_whole_without_any_provider_call()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var buyer = await new AuthClient(app).SignInAsync("dev.buyer@example.com");
        var paymentId = await DevelopmentPurchaseAsync(app, buyer.AccessToken);
        var books = new WalletBooks(app);
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());

        var form = await FormAsync(browser, paymentId);
        form.Body.ShouldContain("value=\"499\"");
        (await RefundAsync(browser, paymentId, form with { Nonce = Guid.NewGuid().ToString() }, 499, " ")).ShouldContain("Reason: say why; it is kept in the audit log.");
        (await RefundAsync(browser, paymentId, form, 499, "test purchase")).ShouldContain("The refund was made and the credits taken back.");

        (await new CheckoutClient(app).GetAsync(buyer.AccessToken, paymentId)).Status.ShouldBe("refunded");
        await books.ShouldAddUpAsync(buyer.User.Id, 0);
        (await books.EntriesAsync(buyer.User.Id)).Select(entry => (entry.Amount, entry.Kind)).ShouldBe([(100L, LedgerEntryKind.Purchase), (-100L, LedgerEntryKind.Reversal)]);
        var audit = (await RefundAuditAsync(app)).ShouldHaveSingleItem();
        audit.After!.ShouldContain($"\"Refund\":\"dev_re_{Guid.Parse(form.Nonce):N}\",\"Amount\":499");
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task An_in_app_purchase_is_shown_beside_card_payments_and_only_its_store_refunds_it()
    {
        using var apple = AppStoreSigner.Create();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, apple.Settings());
        var books = new WalletBooks(app);
        await books.WithDbAsync(db => db.CreditPacks.Where(pack => pack.Id == "starter")
            .ExecuteUpdateAsync(set => set.SetProperty(pack => pack.AppStoreProductId, "com.apptork.tests.credits100"), Cancel));
        var buyer = await new AuthClient(app).SignInAsync("ios.admin@example.com");
        var transaction = AppStoreSigner.Transaction("com.apptork.tests.credits100");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/purchases/apple")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new Dictionary<string, string> { ["signed_transaction"] = apple.Sign(transaction) }),
        })
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", buyer.AccessToken);
            using var credited = await app.Client().SendAsync(request, Cancel);
            credited.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var payment = await books.WithDbAsync(db => db.Payments.SingleAsync(Cancel));
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());

        var (_, list, _) = await browser.GetAsync($"{Admin}/purchases?provider=AppStore");
        list.ShouldContain(payment.Id.ToString());
        var form = await FormAsync(browser, payment.Id, expectForm: false);
        form.Body.ShouldContain((string)transaction["transactionId"]!);
        WebUtility.HtmlDecode(form.Body).ShouldContain("An in-app purchase is refunded by its store only");
        var forced = new RefundForm(PurchaseRefunds.Version(payment), Guid.NewGuid().ToString(), string.Empty);
        (await RefundAsync(browser, payment.Id, forced, 499, "asked by mail")).ShouldContain("An in-app purchase is refunded by its store only; nothing was done.");
        await books.ShouldAddUpAsync(buyer.User.Id, 100);
        (await RefundAuditAsync(app)).ShouldBeEmpty();
    }

    /// <summary>One request of the table: a page read or a form posted to one handler.</summary>
    private sealed record Request(string Name, HttpMethod Method, string Path, Func<string, Dictionary<string, string>>? Form = null);

    [Fact(Timeout = 180_000)]
    public async Task Every_purchase_and_pack_handler_answers_each_role_as_the_table_says_and_refusals_change_nothing()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var buyer = await new AuthClient(app).SignInAsync("table.buyer@example.com");
        var paymentId = await DevelopmentPurchaseAsync(app, buyer.AccessToken);
        Request purchases = new("purchases", HttpMethod.Get, $"{Admin}/purchases");
        Request purchase = new("purchase", HttpMethod.Get, $"{Admin}/purchases/{paymentId}");
        // A form of another version: the handler runs past authorization only for the roles allowed, and refuses it as stale.
        Request refund = new("refund", HttpMethod.Post, $"{Admin}/purchases/{paymentId}?handler=Refund",
            _ => new() { ["Amount"] = "499", ["Reason"] = "table", ["ExpectedVersion"] = "1", ["Nonce"] = Guid.NewGuid().ToString() });
        Request packs = new("packs", HttpMethod.Get, $"{Admin}/packs");
        Request newPack = new("new pack", HttpMethod.Get, $"{Admin}/packs/edit");
        Request create = new("create pack", HttpMethod.Post, $"{Admin}/packs/edit", role => new()
        {
            ["NewId"] = $"table-{role}", ["Credits"] = "10", ["Price"] = "100", ["Currency"] = "usd", ["SortOrder"] = "9", ["IsActive"] = "true", ["Names[en]"] = "Table",
        });
        Request edit = new("edit pack", HttpMethod.Post, $"{Admin}/packs/edit/starter", _ => new()
        {
            ["Credits"] = "1", ["Price"] = "1", ["Currency"] = "usd", ["SortOrder"] = "1", ["IsActive"] = "false", ["Names[en]"] = "Stale", ["ExpectedVersion"] = "stale",
        });
        Request[] requests = [purchases, purchase, refund, packs, newPack, create, edit];
        const HttpStatusCode Ok = HttpStatusCode.OK, Forbidden = HttpStatusCode.Forbidden, SignIn = HttpStatusCode.Redirect;
        var table = new Dictionary<string, HttpStatusCode[]>
        {
            //                 purchases, purchase, refund, packs, new pack, create pack, edit pack
            ["anonymous"] = [SignIn, SignIn, SignIn, SignIn, SignIn, SignIn, SignIn],
            [StaffRoles.Support] = [Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden],
            [StaffRoles.Finance] = [Ok, Ok, Ok, Ok, Forbidden, Forbidden, Forbidden],
            // The created pack answers with a redirect to the list.
            [StaffRoles.Superuser] = [Ok, Ok, Ok, Ok, Ok, HttpStatusCode.Redirect, Ok],
        };

        var mismatches = new List<string>();
        foreach (var (role, expected) in table)
        {
            using var browser = new AdminClient(app.Client().BaseAddress!);
            if (role == "anonymous")
            {
                await browser.GetAsync($"{Admin}/sign-in");
            }
            else
            {
                var member = await StaffSeed.EnrolledAsync(app, $"{role}@example.com", role);
                await browser.SignInAsync(member.Email, member.Password, member.NextCode());
            }

            foreach (var (request, status) in requests.Zip(expected))
            {
                if (role != "anonymous")
                {
                    await browser.GetAsync(Admin);
                }

                var (actual, _, response) = request.Method == HttpMethod.Get
                    ? await browser.GetAsync(request.Path)
                    : await browser.PostAsync(request.Path, request.Form!(role));
                var location = response.Headers.Location?.AbsolutePath();
                var wentWhereExpected = status != HttpStatusCode.Redirect
                    || location == (role == "anonymous" ? $"{Admin}/sign-in" : $"{Admin}/packs");
                if (actual != status || !wentWhereExpected)
                {
                    mismatches.Add($"{role} {request.Name}: {(int)actual} {response.Headers.Location}, expected {(int)status}");
                }
            }
        }

        mismatches.ShouldBeEmpty();
        // Only the superuser's pack exists; no refund happened, the starter pack is as it was, and only one pack was audited.
        var books = new WalletBooks(app);
        (await books.WithDbAsync(db => db.CreditPacks.Where(pack => EF.Functions.Like(pack.Id, "table-%")).Select(pack => pack.Id).ToListAsync(Cancel))).ShouldBe(["table-superuser"]);
        var payment = await books.WithDbAsync(db => db.Payments.SingleAsync(candidate => candidate.Id == paymentId, Cancel));
        (payment.Status, payment.AmountRefunded).ShouldBe((PaymentStatus.Paid, 0L));
        var starter = await books.WithDbAsync(db => db.CreditPacks.SingleAsync(pack => pack.Id == "starter", Cancel));
        (starter.Price, starter.IsActive).ShouldBe((499L, true));
        await books.ShouldAddUpAsync(buyer.User.Id, 100);
        var audited = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action is AdminActions.PurchaseRefunded or AdminActions.PackCreated or AdminActions.PackUpdated).ToList();
        audited.Select(entry => (entry.Action, entry.StaffEmail)).ShouldBe([(AdminActions.PackCreated, "superuser@example.com")]);
    }

    /// <summary>A purchase of the starter pack through the development provider's page, paid.</summary>
    public static async Task<Guid> DevelopmentPurchaseAsync(RootApp app, string accessToken)
    {
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(accessToken, "starter");
        using var paid = await checkout.Http.PostAsync(CheckoutClient.PageAction(session.CheckoutUrl, "pay"), null, Cancel);
        paid.StatusCode.ShouldBe(HttpStatusCode.OK);
        return session.Id;
    }

    private sealed record RefundForm(long Version, string Nonce, string Body);

    private static async Task<RefundForm> FormAsync(AdminClient browser, Guid paymentId, bool expectForm = true)
    {
        var (status, body, _) = await browser.GetAsync($"{Admin}/purchases/{paymentId}");
        status.ShouldBe(HttpStatusCode.OK);
        if (!expectForm)
        {
            body.ShouldNotContain("name=\"Nonce\"");
            return new RefundForm(0, string.Empty, body);
        }

        return new RefundForm(long.Parse(Hidden(body, "ExpectedVersion"), CultureInfo.InvariantCulture), Hidden(body, "Nonce"), body);
    }

    private static async Task<string> RefundAsync(AdminClient browser, Guid paymentId, RefundForm form, long amount, string reason)
    {
        var (status, body, _) = await browser.PostAsync($"{Admin}/purchases/{paymentId}?handler=Refund", new Dictionary<string, string>
        {
            ["ExpectedVersion"] = form.Version.ToString(CultureInfo.InvariantCulture), ["Nonce"] = form.Nonce,
            ["Amount"] = amount.ToString(CultureInfo.InvariantCulture), ["Reason"] = reason,
        });
        status.ShouldBe(HttpStatusCode.OK);
        return WebUtility.HtmlDecode(body);
    }

    private static List<(string Path, IReadOnlyDictionary<string, string> Form, string? IdempotencyKey)> RefundRequests(LocalStripe stripe) =>
        stripe.Requests.Where(request => request.Path == "/v1/refunds").ToList();

    private static async Task<List<AdminAuditEntry>> RefundAuditAsync(RootApp app) =>
        (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action == AdminActions.PurchaseRefunded).ToList();

    private static string Hidden(string body, string name)
    {
        var match = Regex.Match(body, $"name=\"{name}\" value=\"([^\"]*)\"");
        match.Success.ShouldBeTrue($"no hidden {name} field");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }
}
