using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Purchases;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Auth.Social;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Purchases;

public sealed class GooglePlayPurchaseTests(PostgresServer postgres)
{
    private const string StarterProduct = "credits_100";

    private static readonly int[] NotAnObject = [1, 2];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_purchase_sent_twenty_times_at_once_is_looked_up_with_google_credited_once_and_consumed(DatabaseShape shape)
    {
        await using var play = await LocalGooglePlay.StartAsync();
        await using var app = await StartAsync(shape, play.Settings());
        var signedIn = await new AuthClient(app).SignInAsync("android.buyer@example.com");
        var books = new WalletBooks(app);
        var token = play.Buy(StarterProduct, signedIn.User.Id);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, token);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(Cancel));
        }));

        answers.Count(answer => answer.StatusCode == HttpStatusCode.Created).ShouldBe(1, string.Join('\n', answers.Select(answer => answer.Body)));
        answers.Count(answer => answer.StatusCode == HttpStatusCode.OK).ShouldBe(19);
        var purchase = JsonNode.Parse(answers[0].Body)!;
        answers.Select(answer => (string)JsonNode.Parse(answer.Body)!["id"]!).Distinct().ShouldHaveSingleItem();
        ((string)purchase["provider"]!, (string)purchase["flow"]!, (string)purchase["status"]!, (long)purchase["credits"]!)
            .ShouldBe(("google_play", "in_app_purchase", "paid", 100L));
        await books.ShouldAddUpAsync(signedIn.User.Id, 100);
        (await books.EntriesAsync(signedIn.User.Id)).ShouldHaveSingleItem().Kind.ShouldBe(LedgerEntryKind.Purchase);
        var payment = await books.WithDbAsync(db => db.Payments.SingleAsync(Cancel));
        payment.ProviderPaymentId.ShouldBe(play.Purchases[token].OrderId);

        // Consumed once, so the user can buy the pack again; the access token came from the service account's assertion.
        play.Consumptions.ShouldBe([token]);
        play.Purchases[token].ConsumptionState.ShouldBe(1);
        play.TokensIssued.ShouldBeGreaterThan(0);
        using (var again = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, token))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Two packs in one purchase (Play's multi-quantity) are two packs' credits.
        using (var two = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, play.Buy(StarterProduct, signedIn.User.Id, quantity: 2)))
        {
            ((long)JsonNode.Parse(await two.Content.ReadAsStringAsync(Cancel))!["credits"]!).ShouldBe(200);
        }

        await books.ShouldAddUpAsync(signedIn.User.Id, 300);
        var packs = JsonNode.Parse(await app.Client().GetStringAsync("/api/v1/checkout/packs", Cancel))!["results"]!.AsArray();
        packs.Single(pack => (string)pack!["id"]! == "starter")!["google_play_product_id"]!.GetValue<string>().ShouldBe(StarterProduct);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Unknown_pending_cancelled_consumed_test_and_other_users_purchases_are_refused_and_nothing_is_credited(DatabaseShape shape)
    {
        await using var play = await LocalGooglePlay.StartAsync();
        await using var app = await StartAsync(shape, play.Settings(allowTestPurchases: false));
        var signedIn = await new AuthClient(app).SignInAsync("android.forger@example.com");
        var known = play.Buy(StarterProduct);
        var cases = new (string Kind, string ProductId, string Token, HttpStatusCode Status, string Code)[]
        {
            ("a token Google does not know", StarterProduct, "not-a-token-" + Guid.NewGuid(), HttpStatusCode.BadRequest, "invalid_purchase_token"),
            ("a token of another product", "credits_500", known, HttpStatusCode.BadRequest, "invalid_purchase_token"),
            ("a pending payment", StarterProduct, play.Buy(StarterProduct, state: 2), HttpStatusCode.Conflict, "purchase_pending"),
            ("a cancelled purchase", StarterProduct, play.Buy(StarterProduct, state: 1), HttpStatusCode.UnprocessableEntity, "store_purchase_revoked"),
            ("a purchase consumed without us", StarterProduct, play.Buy(StarterProduct, consumption: 1), HttpStatusCode.Conflict, "purchase_already_consumed"),
            ("a license tester's purchase", StarterProduct, play.Buy(StarterProduct, type: 0), HttpStatusCode.UnprocessableEntity, "sandbox_purchase_refused"),
            ("another user's purchase", StarterProduct, play.Buy(StarterProduct, Guid.NewGuid()), HttpStatusCode.Forbidden, "purchase_of_another_user"),
            ("an account id that is not a user id", StarterProduct, play.Buy(StarterProduct, rawAccountId: "hashed-account-7f3a"), HttpStatusCode.Forbidden, "purchase_of_another_user"),
            ("a product no pack sells", "credits_999", play.Buy("credits_999"), HttpStatusCode.UnprocessableEntity, "unknown_store_product"),
            ("an empty token", StarterProduct, string.Empty, HttpStatusCode.BadRequest, "blank"),
        };
        foreach (var (kind, productId, token, status, code) in cases)
        {
            using var response = await RedeemAsync(app, signedIn.AccessToken, productId, token);
            response.StatusCode.ShouldBe(status, $"{kind}: {await response.Content.ReadAsStringAsync(Cancel)}");
            (await ErrorAssert.ReadAsync(response)).Errors.ShouldHaveSingleItem().Code.ShouldBe(code, kind);
        }

        // Google down: 503 with a retry hint, nothing credited; the same purchase sent again later is credited.
        play.Down = true;
        using (var down = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, known))
        {
            await ErrorAssert.SingleAsync(down, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
            down.Headers.RetryAfter.ShouldNotBeNull();
        }

        var books = new WalletBooks(app);
        (await books.EntriesAsync(signedIn.User.Id)).ShouldBeEmpty();
        (await books.WithDbAsync(db => db.Payments.CountAsync(Cancel))).ShouldBe(0);
        play.Consumptions.ShouldBeEmpty();
        play.Down = false;
        using var later = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, known);
        later.StatusCode.ShouldBe(HttpStatusCode.Created, await later.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task A_service_account_google_refuses_answers_503_and_logs_what_to_fix()
    {
        await using var play = await LocalGooglePlay.StartAsync();
        using var otherKey = RSA.Create(2048);
        var settings = play.Settings();
        settings["Purchases:Google:ServiceAccountKey"] = play.ServiceAccountKey(otherKey);
        await using var app = await StartAsync(DatabaseShape.Sqlite, settings);
        var signedIn = await new AuthClient(app).SignInAsync("android.keyless@example.com");
        using var refused = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, play.Buy(StarterProduct));
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
        play.TokensIssued.ShouldBe(0);
        app.Logs.Entries.ShouldContain(entry => entry.Message.Contains("Google refused the service account of Purchases__Google__ServiceAccountKey", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Voided_and_cancelled_purchases_are_taken_back_once_by_notification_or_by_the_hourly_sweep(DatabaseShape shape)
    {
        await using var play = await LocalGooglePlay.StartAsync();
        await using var app = await StartAsync(shape, play.Settings());
        var signedIn = await new AuthClient(app).SignInAsync("android.refund@example.com");
        var user = signedIn.User.Id;
        var books = new WalletBooks(app);
        var first = play.Buy(StarterProduct, user);
        (await RedeemAsync(app, signedIn.AccessToken, StarterProduct, first)).StatusCode.ShouldBe(HttpStatusCode.Created);
        await books.PostAsync(user, -70, "generation-1");

        // Refunded after 70 credits were spent: 30 taken back, 70 booked as shortfall, the user flagged; once per message.
        var voided = LocalGooglePlay.PushBody(LocalGooglePlay.VoidedNotification(first, play.Void(first)));
        (await PushAsync(app, voided, play.PushToken())).ShouldBe("processed");
        (await PushAsync(app, voided, play.PushToken())).ShouldBe("duplicate");
        await books.ShouldAddUpAsync(user, 0);
        await books.ShouldAddUpAsync(SystemAccounts.Shortfall, 70);
        (await books.WithDbAsync(db => db.AccountFlags.SingleAsync(Cancel))).Reason.ShouldBe(AccountFlag.PaymentShortfall);

        // Cancelled before the app sent it: the notification keeps it, and the late send credits nothing.
        var cancelled = play.Buy(StarterProduct, user);
        play.Purchases[cancelled] = play.Purchases[cancelled] with { PurchaseState = 1 };
        (await PushAsync(app, LocalGooglePlay.PushBody(LocalGooglePlay.OneTimeNotification(cancelled, StarterProduct, GooglePlayPurchases.OneTimeProductCanceled)), play.PushToken()))
            .ShouldBe("processed");
        play.Purchases[cancelled] = play.Purchases[cancelled] with { PurchaseState = 0 };
        using (var late = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, cancelled))
        {
            await ErrorAssert.SingleAsync(late, HttpStatusCode.UnprocessableEntity, "client_error", "store_purchase_revoked");
        }

        // Voided with no notification (lost, or the subscription was down): the hourly sweep takes it back, once.
        var second = play.Buy(StarterProduct, user);
        (await RedeemAsync(app, signedIn.AccessToken, StarterProduct, second)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var secondOrder = play.Void(second);
        (await SweepAsync(app)).ShouldBe(1);
        (await SweepAsync(app)).ShouldBe(0);
        var payment = await books.WithDbAsync(db => db.Payments.SingleAsync(candidate => candidate.ProviderPaymentId == secondOrder, Cancel));
        (payment.Status, payment.CreditsReversed).ShouldBe((PaymentStatus.Refunded, 100L));
        await books.ShouldAddUpAsync(user, 0);

        // A purchase notification needs nothing; another package's is acknowledged; a push not signed as configured is refused.
        (await PushAsync(app, LocalGooglePlay.PushBody(LocalGooglePlay.OneTimeNotification(second, StarterProduct, 1)), play.PushToken())).ShouldBe("ignored");
        (await PushAsync(app, LocalGooglePlay.PushBody(LocalGooglePlay.OneTimeNotification(second, StarterProduct, 2, "com.example.other")), play.PushToken())).ShouldBe("ignored");
        (await PushAsync(app, LocalGooglePlay.PushBody(new { version = "1.0" }), play.PushToken())).ShouldBe("ignored");
        (await PushAsync(app, LocalGooglePlay.PushBody(LocalGooglePlay.OneTimeNotification("unknown-token", StarterProduct, 2)), play.PushToken())).ShouldBe("ignored");
        using (var notAnObject = await PostPushAsync(app, LocalGooglePlay.PushBody(NotAnObject), play.PushToken()))
        {
            await ErrorAssert.SingleAsync(notAnObject, HttpStatusCode.BadRequest, "client_error", "parse_error");
        }

        using var strangerKeys = new LocalProviders.ProviderKeys();
        string?[] badTokens =
        [
            null, "not-a-jwt", play.PushToken(audience: "https://elsewhere.example/push"), play.PushToken(email: "someone@attacker.example"),
            play.PushToken(expired: true), play.PushToken(credentials: strangerKeys.Credentials),
        ];
        foreach (var bad in badTokens)
        {
            using var refused = await PostPushAsync(app, voided, bad);
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "client_error", "invalid_signature");
        }

        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_server_without_google_play_settings_answers_store_not_configured()
    {
        await using var app = await StartAsync(DatabaseShape.Sqlite, []);
        var signedIn = await new AuthClient(app).SignInAsync("android.nostore@example.com");
        using var redeem = await RedeemAsync(app, signedIn.AccessToken, StarterProduct, "token");
        await ErrorAssert.SingleAsync(redeem, HttpStatusCode.NotFound, "client_error", "store_not_configured");
        using var push = await PostPushAsync(app, "{}", "x");
        await ErrorAssert.SingleAsync(push, HttpStatusCode.NotFound, "client_error", "store_not_configured");
    }

    private async Task<RootApp> StartAsync(DatabaseShape shape, Dictionary<string, string?> settings)
    {
        var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, settings);
        await new WalletBooks(app).WithDbAsync(async db =>
        {
            await db.CreditPacks.Where(pack => pack.Id == "starter").ExecuteUpdateAsync(set => set.SetProperty(pack => pack.GooglePlayProductId, StarterProduct), Cancel);
            return await db.CreditPacks.Where(pack => pack.Id == "standard").ExecuteUpdateAsync(set => set.SetProperty(pack => pack.GooglePlayProductId, "credits_500"), Cancel);
        });
        return app;
    }

    private static async Task<HttpResponseMessage> RedeemAsync(RootApp app, string accessToken, string productId, string purchaseToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/purchases/google")
        {
            Content = JsonContent.Create(new Dictionary<string, string> { ["product_id"] = productId, ["purchase_token"] = purchaseToken }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await app.Client().SendAsync(request, Cancel);
    }

    private static async Task<HttpResponseMessage> PostPushAsync(RootApp app, string body, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/purchases/google/notifications")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await app.Client().SendAsync(request, Cancel);
    }

    private static async Task<string> PushAsync(RootApp app, string body, string bearer)
    {
        using var response = await PostPushAsync(app, body, bearer);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return (string)JsonNode.Parse(text)!["outcome"]!;
    }

    /// <summary>The hourly job's work, run now in its own scope as Hangfire would.</summary>
    private static async Task<int> SweepAsync(RootApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<GooglePlayPurchases>().SweepVoidedAsync(DateTimeOffset.UtcNow, Cancel);
    }
}
