using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Purchases;

public sealed class AppStorePurchaseTests(PostgresServer postgres)
{
    private const string StarterProduct = "com.apptork.tests.credits100";

    private static readonly int[] NumbersNotCertificates = [1, 2, 3];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_purchase_sent_twenty_times_at_once_is_verified_and_credited_once(DatabaseShape shape)
    {
        using var apple = AppStoreSigner.Create();
        await using var app = await StartAsync(shape, apple.Settings());
        var signedIn = await new AuthClient(app).SignInAsync("ios.buyer@example.com");
        var books = new WalletBooks(app);
        var transaction = apple.Sign(AppStoreSigner.Transaction(StarterProduct, appAccountToken: signedIn.User.Id));

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await RedeemAsync(app, signedIn.AccessToken, transaction);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(Cancel));
        }));

        answers.Count(answer => answer.StatusCode == HttpStatusCode.Created).ShouldBe(1, string.Join('\n', answers.Select(answer => answer.Body)));
        answers.Count(answer => answer.StatusCode == HttpStatusCode.OK).ShouldBe(19);
        var purchases = answers.Select(answer => JsonNode.Parse(answer.Body)!).ToList();
        purchases.Select(purchase => (string)purchase["id"]!).Distinct().ShouldHaveSingleItem();
        var purchase = purchases[0];
        ((string)purchase["provider"]!, (string)purchase["flow"]!, (string)purchase["status"]!, (long)purchase["credits"]!, (string)purchase["pack_id"]!)
            .ShouldBe(("app_store", "in_app_purchase", "paid", 100L, "starter"));
        await books.ShouldAddUpAsync(signedIn.User.Id, 100);
        var entry = (await books.EntriesAsync(signedIn.User.Id)).ShouldHaveSingleItem();
        (entry.Kind, entry.Reference).ShouldBe((LedgerEntryKind.Purchase, $"payment:{Guid.Parse((string)purchase["id"]!):N}"));

        // The same purchase through checkout's own view, and the pack as an app finds it to offer in StoreKit.
        var view = await new CheckoutClient(app).GetAsync(signedIn.AccessToken, Guid.Parse((string)purchase["id"]!));
        (view.Provider, view.Status).ShouldBe(("app_store", "paid"));
        var packs = JsonNode.Parse(await app.Client().GetStringAsync("/api/v1/checkout/packs", Cancel))!["results"]!.AsArray();
        packs.Single(pack => (string)pack!["id"]! == "starter")!["app_store_product_id"]!.GetValue<string>().ShouldBe(StarterProduct);
        packs.Single(pack => (string)pack!["id"]! == "pro")!["app_store_product_id"].ShouldBeNull();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Forged_truncated_untrusted_expired_and_misdirected_transactions_are_refused_and_nothing_is_credited(DatabaseShape shape)
    {
        using var apple = AppStoreSigner.Create();
        await using var app = await StartAsync(shape, apple.Settings(allowSandbox: false));
        var signedIn = await new AuthClient(app).SignInAsync("forger@example.com");
        var someoneElse = Guid.NewGuid();
        var good = AppStoreSigner.Transaction(StarterProduct);
        var signed = apple.Sign(good);
        var parts = signed.Split('.');
        using var otherApple = AppStoreSigner.Create();
        using var withoutLeafMarker = AppStoreSigner.Create(leafMarker: false, root: apple.Root);
        using var withoutIntermediateMarker = AppStoreSigner.Create(intermediateMarker: false, root: apple.Root);
        using var expired = AppStoreSigner.Create(leafExpired: true, root: apple.Root);
        using var leafOfAnotherCa = AppStoreSigner.Create(leafIssuer: otherApple.Intermediate);
        using var selfSigned = SelfSignedLeaf();
        using var attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var forgeries = new (string Kind, string Jws, HttpStatusCode Status, string Code)[]
        {
            ("payload changed after signing", $"{parts[0]}.{Base64UrlEncoder.Encode(System.Text.Json.JsonSerializer.Serialize(AppStoreSigner.Transaction("com.apptork.tests.credits1500")))}.{parts[2]}", HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("signature cut off", $"{parts[0]}.{parts[1]}", HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("empty signature", $"{parts[0]}.{parts[1]}.", HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("not a JWS", "eyJhbGciOiJFUzI1NiJ9", HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("a chain to another root", otherApple.Sign(good), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("the leaf alone in x5c", apple.Sign(good, [apple.Leaf]), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("nulls in x5c", apple.Sign(good, rawX5c: new string?[] { null, null, null }), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("numbers in x5c", apple.Sign(good, rawX5c: NumbersNotCertificates), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("a quantity no store sells", apple.Sign(AppStoreSigner.Transaction(StarterProduct, quantity: 1000)), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("certificates in the wrong order", apple.Sign(good, [apple.Intermediate, apple.Leaf, apple.Root]), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("a self-signed leaf before the real CAs", selfSigned.Sign(good, [selfSigned.Leaf, apple.Intermediate, apple.Root]), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("a leaf another CA issued", leafOfAnotherCa.Sign(good, [leafOfAnotherCa.Leaf, apple.Intermediate, apple.Root]), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("an expired leaf", expired.Sign(good), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("a leaf without Apple's marker", withoutLeafMarker.Sign(good), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("an intermediate without Apple's marker", withoutIntermediateMarker.Sign(good), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("signed by another key than the leaf's", apple.Sign(good, key: attackerKey), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("HMAC instead of ES256", HmacSigned(good, apple), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("another app's purchase", apple.Sign(AppStoreSigner.Transaction(StarterProduct, bundleId: "com.example.other")), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("an Xcode test purchase", apple.Sign(AppStoreSigner.Transaction(StarterProduct, environment: "Xcode")), HttpStatusCode.BadRequest, "invalid_store_transaction"),
            ("a sandbox purchase", apple.Sign(AppStoreSigner.Transaction(StarterProduct, environment: "Sandbox")), HttpStatusCode.UnprocessableEntity, "sandbox_purchase_refused"),
            ("another user's purchase", apple.Sign(AppStoreSigner.Transaction(StarterProduct, appAccountToken: someoneElse)), HttpStatusCode.Forbidden, "purchase_of_another_user"),
            ("a product no pack sells", apple.Sign(AppStoreSigner.Transaction("com.apptork.tests.unknown")), HttpStatusCode.UnprocessableEntity, "unknown_store_product"),
            ("a refunded purchase", apple.Sign(AppStoreSigner.Transaction(StarterProduct, revoked: DateTimeOffset.UtcNow)), HttpStatusCode.UnprocessableEntity, "store_purchase_revoked"),
        };
        foreach (var (kind, jws, status, code) in forgeries)
        {
            using var response = await RedeemAsync(app, signedIn.AccessToken, jws);
            response.StatusCode.ShouldBe(status, $"{kind}: {await response.Content.ReadAsStringAsync(Cancel)}");
            (await ErrorAssert.ReadAsync(response)).Errors.ShouldHaveSingleItem().Code.ShouldBe(code, kind);
        }

        var books = new WalletBooks(app);
        (await books.EntriesAsync(signedIn.User.Id)).ShouldBeEmpty();
        (await books.WithDbAsync(db => db.Payments.CountAsync(Cancel))).ShouldBe(0);

        // The real one still goes through: nothing above was refused for a reason the good one shares. Three packs bought
        // in one transaction are three packs' credits.
        using var accepted = await RedeemAsync(app, signedIn.AccessToken, signed);
        accepted.StatusCode.ShouldBe(HttpStatusCode.Created, await accepted.Content.ReadAsStringAsync(Cancel));
        using var three = await RedeemAsync(app, signedIn.AccessToken, apple.Sign(AppStoreSigner.Transaction(StarterProduct, quantity: 3)));
        ((long)JsonNode.Parse(await three.Content.ReadAsStringAsync(Cancel))!["credits"]!).ShouldBe(300);
        await books.ShouldAddUpAsync(signedIn.User.Id, 400);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_refund_notification_takes_the_credits_back_once_and_a_purchase_refunded_before_it_arrives_is_never_credited(DatabaseShape shape)
    {
        using var apple = AppStoreSigner.Create();
        await using var app = await StartAsync(shape, apple.Settings());
        var signedIn = await new AuthClient(app).SignInAsync("refunded@example.com");
        var user = signedIn.User.Id;
        var books = new WalletBooks(app);
        var transaction = AppStoreSigner.Transaction(StarterProduct, appAccountToken: user);
        using (var credited = await RedeemAsync(app, signedIn.AccessToken, apple.Sign(transaction)))
        {
            credited.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        await books.PostAsync(user, -70, "generation-1");
        var refund = apple.Sign(AppStoreSigner.Notification("REFUND", apple.Sign(AppStoreSigner.Transaction(
            StarterProduct, (string)transaction["transactionId"]!, user, revoked: DateTimeOffset.UtcNow))));
        (await NotifyAsync(app, refund)).ShouldBe("processed");
        (await NotifyAsync(app, refund)).ShouldBe("duplicate");

        await books.ShouldAddUpAsync(user, 0);
        await books.ShouldAddUpAsync(SystemAccounts.Shortfall, 70);
        var payment = await books.WithDbAsync(db => db.Payments.SingleAsync(Cancel));
        (payment.Status, payment.CreditsReversed, payment.ShortfallCredits).ShouldBe((Apptork.Root.Features.Checkout.PaymentStatus.Refunded, 100L, 70L));
        var flag = await books.WithDbAsync(db => db.AccountFlags.SingleAsync(Cancel));
        (flag.UserId, flag.Reason).ShouldBe((user, AccountFlag.PaymentShortfall));

        // Refunded before the app sent it: the app's copy, signed before the refund, credits nothing.
        var early = AppStoreSigner.Transaction(StarterProduct, appAccountToken: user);
        var earlyRefund = apple.Sign(AppStoreSigner.Notification("REFUND", apple.Sign(AppStoreSigner.Transaction(
            StarterProduct, (string)early["transactionId"]!, user, revoked: DateTimeOffset.UtcNow))));
        (await NotifyAsync(app, earlyRefund)).ShouldBe("processed");
        using (var late = await RedeemAsync(app, signedIn.AccessToken, apple.Sign(early)))
        {
            await ErrorAssert.SingleAsync(late, HttpStatusCode.UnprocessableEntity, "client_error", "store_purchase_revoked");
        }

        await books.ShouldAddUpAsync(user, 0);

        // Other notification types are acknowledged; a notification not signed by the App Store is refused.
        (await NotifyAsync(app, apple.Sign(AppStoreSigner.Notification("CONSUMPTION_REQUEST", apple.Sign(transaction))))).ShouldBe("ignored");
        using var otherApple = AppStoreSigner.Create();
        using (var forged = await PostNotificationAsync(app, otherApple.Sign(AppStoreSigner.Notification("REFUND", otherApple.Sign(transaction)))))
        {
            await ErrorAssert.SingleAsync(forged, HttpStatusCode.BadRequest, "client_error", "invalid_signature");
        }

        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_server_without_app_store_settings_answers_store_not_configured_and_trusts_only_apples_root()
    {
        using var apple = AppStoreSigner.Create();
        await using (var off = await StartAsync(DatabaseShape.Sqlite, []))
        {
            var signedIn = await new AuthClient(off).SignInAsync("no.store@example.com");
            using var redeem = await RedeemAsync(off, signedIn.AccessToken, apple.Sign(AppStoreSigner.Transaction(StarterProduct)));
            await ErrorAssert.SingleAsync(redeem, HttpStatusCode.NotFound, "client_error", "store_not_configured");
            using var notify = await PostNotificationAsync(off, "x");
            await ErrorAssert.SingleAsync(notify, HttpStatusCode.NotFound, "client_error", "store_not_configured");
        }

        // The bundle id alone turns it on, with Apple Root CA - G3 the only root: a chain to any other is refused.
        await using var pinned = await StartAsync(DatabaseShape.Sqlite, new() { ["Purchases:Apple:BundleId"] = AppStoreSigner.BundleId });
        var buyer = await new AuthClient(pinned).SignInAsync("pinned@example.com");
        using var refused = await RedeemAsync(pinned, buyer.AccessToken, apple.Sign(AppStoreSigner.Transaction(StarterProduct)));
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "client_error", "invalid_store_transaction", "signed_transaction");
        pinned.Logs.Entries.ShouldContain(entry => entry.Message.Contains("not the pinned root", StringComparison.Ordinal));
    }

    private async Task<RootApp> StartAsync(DatabaseShape shape, Dictionary<string, string?> settings)
    {
        var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, settings);
        await new WalletBooks(app).WithDbAsync(db => db.CreditPacks.Where(pack => pack.Id == "starter")
            .ExecuteUpdateAsync(set => set.SetProperty(pack => pack.AppStoreProductId, StarterProduct), Cancel));
        return app;
    }

    private static async Task<HttpResponseMessage> RedeemAsync(RootApp app, string accessToken, string signedTransaction)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/purchases/apple")
        {
            Content = JsonContent.Create(new Dictionary<string, string> { ["signed_transaction"] = signedTransaction }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await app.Client().SendAsync(request, Cancel);
    }

    private static Task<HttpResponseMessage> PostNotificationAsync(RootApp app, string signedPayload) =>
        app.Client().PostAsJsonAsync("/api/v1/purchases/apple/notifications", new Dictionary<string, string> { ["signedPayload"] = signedPayload }, Cancel);

    /// <summary>Posts as Apple does and returns the receipt's outcome, failing on anything but 200.</summary>
    private static async Task<string> NotifyAsync(RootApp app, string signedPayload)
    {
        using var response = await PostNotificationAsync(app, signedPayload);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        return (string)JsonNode.Parse(body)!["outcome"]!;
    }

    /// <summary>A leaf that signed itself, with Apple's marker, to sit in front of the real intermediate and root.</summary>
    private static AppStoreSigner SelfSignedLeaf()
    {
        var signer = AppStoreSigner.Create();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Prod ECC Mac App Store and iTunes Store Receipt Signing", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension(new Oid(Apptork.Root.Features.Purchases.AppStoreSignedData.LeafMarkerOid), [0x05, 0x00], false));
        return signer.WithLeaf(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
    }

    /// <summary>The transaction signed HS256 with the leaf's public key as the secret, the classic algorithm confusion.</summary>
    private static string HmacSigned(Dictionary<string, object?> payload, AppStoreSigner apple)
    {
        var header = new Dictionary<string, object> { ["x5c"] = new[] { Convert.ToBase64String(apple.Leaf.RawData), Convert.ToBase64String(apple.Intermediate.RawData), Convert.ToBase64String(apple.Root.RawData) } };
        var secret = new SymmetricSecurityKey(apple.Leaf.GetPublicKey().Concat(new byte[32]).ToArray());
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }
            .CreateToken(System.Text.Json.JsonSerializer.Serialize(payload), new SigningCredentials(secret, SecurityAlgorithms.HmacSha256), header);
    }
}
