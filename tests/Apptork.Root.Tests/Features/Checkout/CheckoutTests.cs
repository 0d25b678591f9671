using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Checkout;

public sealed class CheckoutTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory]
    [InlineData("en", "Starter pack")]
    [InlineData("fr-CA", "Pack découverte")]
    [InlineData("pt-PT", "Pacote inicial")]
    [InlineData("de", "Startpaket")]
    [InlineData("ja", "Starter pack")]
    public async Task Packs_are_listed_with_names_in_the_callers_language(string language, string starterName)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var response = await app.Client(language).GetAsync("/api/v1/checkout/packs", Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var packs = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!["results"]!.AsArray();
        packs.Select(pack => (string)pack!["id"]!).ShouldBe(["starter", "standard", "pro"]);
        packs[0]!["name"]!.GetValue<string>().ShouldBe(starterName);
        packs[0]!["credits"]!.GetValue<long>().ShouldBe(100);
        packs[0]!["price"]!.GetValue<long>().ShouldBe(499);
        packs[0]!["currency"]!.GetValue<string>().ShouldBe("usd");
    }

    [Fact]
    public async Task The_development_provider_runs_a_whole_purchase_with_no_keys()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var signedIn = await new AuthClient(app).SignInAsync("buyer@example.com");
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);

        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter", idempotencyKey: "buy-1");
        (session.Provider, session.Status, session.Credits, session.Amount).ShouldBe(("development", "pending", 100L, 499L));
        var replay = await checkout.StartAsync(signedIn.AccessToken, "starter", idempotencyKey: "buy-1");
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await replay.Content.ReadFromJsonAsync<CheckoutClient.Session>(TestJson.Options, Cancel))!.Id.ShouldBe(session.Id);

        var page = await checkout.Http.GetStringAsync(session.CheckoutUrl, Cancel);
        page.ShouldContain("DEVELOPMENT PAYMENT PROVIDER: no card is charged and no money moves");
        page.ShouldContain("/pay\"");

        using (var paid = await checkout.Http.PostAsync(CheckoutClient.PageAction(session.CheckoutUrl, "pay"), null, Cancel))
        {
            paid.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var again = await checkout.Http.PostAsync(CheckoutClient.PageAction(session.CheckoutUrl, "pay"), null, Cancel))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("paid");
        await books.ShouldAddUpAsync(signedIn.User.Id, 100);
        var purchase = (await books.EntriesAsync(signedIn.User.Id)).ShouldHaveSingleItem();
        (purchase.Kind, purchase.Reference).ShouldBe((LedgerEntryKind.Purchase, $"payment:{session.Id:N}"));

        // A form post from the page's own button, the token in its hidden field, answers with the page again.
        var refundButton = new FormUrlEncodedContent([new("token", CheckoutClient.PageToken(session.CheckoutUrl))]);
        using (var refunded = await checkout.Http.PostAsync($"/checkout/development/{session.Id}/refund", refundButton, Cancel))
        {
            refunded.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await refunded.Content.ReadAsStringAsync(Cancel)).ShouldContain(">Refunded<");
        }

        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("refunded");
        await books.ShouldAddUpAsync(signedIn.User.Id, 0);
        (await books.ReconcileAsync()).ShouldBeEmpty();

        // Another user's purchase is not found, and neither is an unknown page action.
        var other = await new AuthClient(app).SignInAsync("other.buyer@example.com");
        using (var foreign = await new AuthClient(app).GetAsync($"/api/v1/checkout/sessions/{session.Id}", other.AccessToken))
        {
            await ErrorAssert.SingleAsync(foreign, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        using var unknown = await checkout.Http.PostAsync(CheckoutClient.PageAction(session.CheckoutUrl, "steal"), null, Cancel);
        await ErrorAssert.SingleAsync(unknown, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    [Fact]
    public async Task The_development_page_names_the_pack_in_the_browsers_language_and_links_back_to_the_app()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            new Dictionary<string, string?> { ["Payments:Development:ReturnUrl"] = "myapp://checkout/done?from=dev" });
        var signedIn = await new AuthClient(app).SignInAsync("returning.buyer@example.com");
        var session = await new CheckoutClient(app).StartOkAsync(signedIn.AccessToken, "starter");

        var page = await app.Client("es").GetStringAsync(session.CheckoutUrl, Cancel);
        page.ShouldContain("<h1>Paquete inicial: 100 credits");
        page.ShouldNotContain("starter");
        page.ShouldContain($"<a id=\"return\" href=\"myapp://checkout/done?from=dev&amp;payment_id={session.Id}\">");

        await using var unset = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var other = await new AuthClient(unset).SignInAsync("unset.buyer@example.com");
        var otherSession = await new CheckoutClient(unset).StartOkAsync(other.AccessToken, "starter");
        var hint = await unset.Client("fr").GetStringAsync(otherSession.CheckoutUrl, Cancel);
        hint.ShouldContain("<h1>Pack découverte: 100 credits");
        hint.ShouldContain("Set <code>Payments__Development__ReturnUrl</code>");
    }

    [Fact]
    public async Task Only_the_buyers_link_opens_the_development_page_and_presses_its_buttons()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        var buyer = await auth.SignInAsync("guarded.buyer@example.com");
        var stranger = await auth.SignInAsync("stranger@example.com");
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(buyer.AccessToken, "starter");
        var strangersOwn = await checkout.StartOkAsync(stranger.AccessToken, "starter");

        // A stranger who knows the payment's id can neither see the page nor press a button, with no token, a made-up
        // one, the token of a link of their own, or the buyer's with a character changed.
        async Task ShouldBeRefusedAsync(string? candidate)
        {
            var query = candidate is null ? string.Empty : $"?token={Uri.EscapeDataString(candidate)}";
            using (var page = await checkout.Http.GetAsync($"/checkout/development/{session.Id}{query}", Cancel))
            {
                await ErrorAssert.SingleAsync(page, HttpStatusCode.NotFound, "client_error", "not_found");
            }

            foreach (var action in new[] { "decline", "refund", "pay" })
            {
                using var pressed = await checkout.Http.PostAsync($"/checkout/development/{session.Id}/{action}{query}", null, Cancel);
                await ErrorAssert.SingleAsync(pressed, HttpStatusCode.NotFound, "client_error", "not_found");
                var button = new FormUrlEncodedContent(candidate is null ? [] : [new("token", candidate)]);
                using var posted = await checkout.Http.PostAsync($"/checkout/development/{session.Id}/{action}", button, Cancel);
                await ErrorAssert.SingleAsync(posted, HttpStatusCode.NotFound, "client_error", "not_found");
            }
        }

        await ShouldBeRefusedAsync(null);
        await ShouldBeRefusedAsync("");
        await ShouldBeRefusedAsync("not-a-token");
        new Uri(session.CheckoutUrl!).PathAndQuery.ShouldStartWith($"/checkout/development/{session.Id}?token=");
        var token = CheckoutClient.PageToken(session.CheckoutUrl);
        await ShouldBeRefusedAsync(CheckoutClient.PageToken(strangersOwn.CheckoutUrl));
        await ShouldBeRefusedAsync(token[..^2] + (token[^2] == 'A' ? "BB" : "AA"));

        (await checkout.GetAsync(buyer.AccessToken, session.Id)).Status.ShouldBe("pending");
        using (var unreadable = new StringContent("--x\r\n", System.Text.Encoding.UTF8))
        {
            unreadable.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
            using var garbled = await checkout.Http.PostAsync($"/checkout/development/{session.Id}/decline", unreadable, Cancel);
            await ErrorAssert.SingleAsync(garbled, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        // The buyer's own link shows the page, whose buttons carry the token in a hidden field rather than in their URL.
        var shown = await checkout.Http.GetStringAsync(session.CheckoutUrl, Cancel);
        shown.ShouldContain($"<form method=\"post\" action=\"/checkout/development/{session.Id}/decline\"><input type=\"hidden\" name=\"token\" value=\"{token}\">");
    }

    [Fact]
    public async Task An_expired_development_page_link_opens_nothing()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            new Dictionary<string, string?> { ["Payments:Development:PageLinkSeconds"] = "1" });
        var buyer = await new AuthClient(app).SignInAsync("slow.buyer@example.com");
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(buyer.AccessToken, "starter");

        // Once it expires, the buyer's link opens nothing either: the app starts another purchase.
        await Task.Delay(TimeSpan.FromSeconds(1.5), Cancel);
        using (var expired = await checkout.Http.GetAsync(session.CheckoutUrl, Cancel))
        {
            await ErrorAssert.SingleAsync(expired, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        using (var late = await checkout.Http.PostAsync(CheckoutClient.PageAction(session.CheckoutUrl, "pay"), null, Cancel))
        {
            await ErrorAssert.SingleAsync(late, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        (await checkout.GetAsync(buyer.AccessToken, session.Id)).Status.ShouldBe("pending");
    }

    [Fact]
    public async Task Repeated_declines_lock_checkout_for_the_user_and_the_device()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("card.tester@example.com");
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter", deviceId: "phone-1");
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var declined = await checkout.Http.PostAsync(CheckoutClient.PageAction(session.CheckoutUrl, "decline"), null, Cancel);
            declined.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("failed");
        using (var locked = await checkout.StartAsync(signedIn.AccessToken, "starter"))
        {
            await ErrorAssert.SingleAsync(locked, HttpStatusCode.Locked, "client_error", "checkout_locked");
            locked.Headers.RetryAfter.ShouldNotBeNull();
        }

        // Another account on the same phone is locked too; the same account elsewhere as well.
        var second = await auth.SignInAsync("second.account@example.com");
        using var onDevice = await checkout.StartAsync(second.AccessToken, "starter", deviceId: "phone-1");
        await ErrorAssert.SingleAsync(onDevice, HttpStatusCode.Locked, "client_error", "checkout_locked");
        (await new WalletBooks(app).EntriesAsync(signedIn.User.Id)).ShouldBeEmpty("declined payments credit nothing");
    }

    [Fact]
    public async Task A_pack_that_is_not_on_sale_and_an_unknown_flow_are_field_errors()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var signedIn = await new AuthClient(app).SignInAsync("picky@example.com");
        var checkout = new CheckoutClient(app);
        using (var unknownPack = await checkout.StartAsync(signedIn.AccessToken, "gold"))
        {
            await ErrorAssert.SingleAsync(unknownPack, HttpStatusCode.BadRequest, "validation_error", "invalid_choice", "pack_id");
        }

        using var unknownFlow = await checkout.StartAsync(signedIn.AccessToken, "starter", flow: "crypto");
        await ErrorAssert.SingleAsync(unknownFlow, HttpStatusCode.BadRequest, "validation_error", "invalid_choice", "flow");
    }

    [Theory]
    [InlineData("Payments__Provider=Development", "Payments__Provider is Development, which works only in the embedded shape")]
    [InlineData("Payments__Provider=Stripe;Payments__Stripe__WebhookSecret=whsec_x;Payments__Stripe__SuccessUrl=https://a.example/ok",
        "Payments__Stripe__SecretKey is required when Payments__Provider=Stripe")]
    [InlineData("Payments__Provider=Stripe;Payments__Stripe__SecretKey=sk_live_x;Payments__Stripe__SuccessUrl=https://a.example/ok",
        "Payments__Stripe__WebhookSecret is required when Payments__Provider=Stripe")]
    [InlineData("Payments__Provider=Stripe;Payments__Stripe__SuccessUrl=https://a.example/ok",
        "(sk_live_…, sk_test_… or a restricted rk_… key). Payments__Stripe__WebhookSecret is required when Payments__Provider=Stripe")]
    [InlineData("Payments__Provider=Stripe;Payments__Stripe__SecretKey=sk_live_x;Payments__Stripe__WebhookSecret=whsec_x;Payments__Stripe__SuccessUrl=https://a.example/ok;Payments__Stripe__ApiBase=http://stripe.example",
        "Payments__Stripe__ApiBase must use https in the production shape")]
    [InlineData("Payments__Development__ReturnUrl=checkout/done", "Payments__Development__ReturnUrl is 'checkout/done', not an absolute URL")]
    [InlineData("Payments__Development__PageLinkSeconds=0", "Payments__Development__PageLinkSeconds is 0, not between 1 and 604800")]
    public async Task Production_refuses_the_development_provider_and_a_half_configured_stripe(string settings, string expected)
    {
        var output = await RootProcess.RefusedStartAsync(settings.Split(';').Select(setting => setting.Split('=', 2)).Select(pair => KeyValuePair.Create(pair[0], pair[1])));
        output.ShouldContain(expected);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_stripe_checkout_is_created_through_stripe_net_and_credited_once_whatever_stripe_redelivers(DatabaseShape shape)
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("stripe.buyer@example.com");
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);

        var session = await checkout.StartOkAsync(signedIn.AccessToken, "standard");
        session.Provider.ShouldBe("stripe");
        session.CheckoutUrl.ShouldStartWith("https://checkout.stripe.com/c/pay/cs_test_");
        var created = stripe.Requests.ShouldHaveSingleItem();
        created.Path.ShouldBe("/v1/checkout/sessions");
        created.IdempotencyKey.ShouldBe($"apptork-payment-{session.Id:N}");
        created.Form["mode"].ShouldBe("payment");
        created.Form["line_items[0][price_data][unit_amount]"].ShouldBe("1999");
        created.Form["line_items[0][price_data][currency]"].ShouldBe("usd");
        created.Form["line_items[0][price_data][product_data][name]"].ShouldBe("Standard pack");
        created.Form["payment_intent_data[metadata][apptork_payment_id]"].ShouldBe(session.Id.ToString());
        created.Form["success_url"].ShouldBe(LocalStripe.SuccessUrl);

        var sessionId = session.CheckoutUrl!.Split('/')[^1];
        var intentId = stripe.CreateIntentFor(session.Id);
        var completed = LocalStripe.SessionCompleted(sessionId, session.Id, intentId);
        await checkout.DeliverOkAsync(stripe, completed);
        await checkout.DeliverOkAsync(stripe, completed, "duplicate");
        // Stripe also says so with another event about the same payment: no second credit either.
        await checkout.DeliverOkAsync(stripe, LocalStripe.IntentSucceeded(intentId, session.Id));

        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("paid");
        await books.ShouldAddUpAsync(signedIn.User.Id, 500);
        (await books.EntriesAsync(signedIn.User.Id)).ShouldHaveSingleItem().Kind.ShouldBe(LedgerEntryKind.Purchase);

        // Events of payments that are not ours (another integration on the same Stripe account) are acknowledged and ignored.
        await checkout.DeliverOkAsync(stripe, LocalStripe.IntentSucceeded("pi_someone_else", Guid.NewGuid()), "ignored");
        await checkout.DeliverOkAsync(stripe, StripeEvent.Of("customer.created", new JsonObject { ["id"] = "cus_1", ["object"] = "customer" }), "ignored");
        await books.ShouldAddUpAsync(signedIn.User.Id, 500);
    }

    [Fact]
    public async Task A_native_payment_sheet_gets_a_client_secret_and_is_credited_by_the_intents_success()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("sheet@example.com");
        var checkout = new CheckoutClient(app);

        var session = await checkout.StartOkAsync(signedIn.AccessToken, "pro", flow: "payment_sheet");
        (session.Flow, session.CheckoutUrl, session.PublishableKey).ShouldBe(("payment_sheet", null, "pk_test_apptork_local"));
        session.ClientSecret.ShouldStartWith("pi_");
        var created = stripe.Requests.ShouldHaveSingleItem();
        created.Path.ShouldBe("/v1/payment_intents");
        created.Form["amount"].ShouldBe("4999");
        created.Form["metadata[apptork_payment_id]"].ShouldBe(session.Id.ToString());

        var intentId = session.ClientSecret!.Split("_secret_")[0];
        await checkout.DeliverOkAsync(stripe, LocalStripe.IntentSucceeded(intentId, session.Id));
        await new WalletBooks(app).ShouldAddUpAsync(signedIn.User.Id, 1500);
    }

    [Fact]
    public async Task A_checkout_stripe_cannot_start_is_503_and_its_payment_ends_expired_not_pending()
    {
        await using var stripe = await LocalStripe.StartAsync();
        var unreachable = new Dictionary<string, string?>(stripe.Settings) { ["Payments:Stripe:ApiBase"] = "http://127.0.0.1:9" };
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, unreachable);
        var signedIn = await new AuthClient(app).SignInAsync("offline.buyer@example.com");

        using var refused = await new CheckoutClient(app).StartAsync(signedIn.AccessToken, "starter");
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
        var payment = await new WalletBooks(app).WithDbAsync(db => db.Payments.SingleAsync(candidate => candidate.UserId == signedIn.User.Id, Cancel));
        payment.Status.ShouldBe(PaymentStatus.Expired);
    }

    [Fact]
    public async Task Unsigned_tampered_stale_and_wrongly_keyed_deliveries_are_refused_and_change_nothing()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("target@example.com");
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter");
        var completed = LocalStripe.SessionCompleted("cs_test_x", session.Id, stripe.CreateIntentFor(session.Id));
        var signature = await stripe.SignAsync(completed.Json);

        var tampered = completed.Json.Replace("\"paid\"", "\"paid\" ", StringComparison.Ordinal);
        var refusals = new (string Json, string? Signature)[]
        {
            (completed.Json, null),
            (completed.Json, "garbage"),
            (completed.Json, "t=abc,v1=def"),
            (tampered, signature),
            (completed.Json, await stripe.SignAsync(completed.Json, DateTimeOffset.UtcNow.AddMinutes(-6))),
            (completed.Json, await stripe.SignAsync(completed.Json, secret: "whsec_not_ours")),
        };
        foreach (var (json, header) in refusals)
        {
            using var refused = await checkout.DeliverAsync(json, header);
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "client_error", "invalid_signature");
        }

        (await new WalletBooks(app).BalanceAsync(signedIn.User.Id)).ShouldBeNull();
        using (var accepted = await checkout.DeliverAsync(completed.Json, signature))
        {
            accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await new WalletBooks(app).ShouldAddUpAsync(signedIn.User.Id, 100);
    }

    [Fact]
    public async Task A_signed_event_whose_payment_stripe_must_name_while_unreachable_is_503_for_stripe_to_retry()
    {
        await using var stripe = await LocalStripe.StartAsync();
        var unreachable = new Dictionary<string, string?>(stripe.Settings) { ["Payments:Stripe:ApiBase"] = "http://127.0.0.1:9" };
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, unreachable);
        var refund = LocalStripe.ChargeRefunded("pi_unknown_to_the_application", 499, 499);

        using var refused = await new CheckoutClient(app).DeliverAsync(refund.Json, await stripe.SignAsync(refund.Json));
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
    }

    [Fact]
    public async Task Signed_deliveries_that_are_no_event_are_parse_errors_logged_once_as_warnings()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var checkout = new CheckoutClient(app);
        var noData = $$"""{"id": "evt_no_data", "object": "event", "api_version": "{{Stripe.StripeConfiguration.ApiVersion}}", "type": "charge.refunded"}""";
        var payloads = new[] { "{}", "[]", noData, """{"id": "evt_null_data", "type": "charge.refunded", "data": null}""" };
        var signatures = await stripe.SignAsync(payloads);

        foreach (var (json, signature) in payloads.Zip(signatures))
        {
            using var refused = await checkout.DeliverAsync(json, signature);
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "client_error", "parse_error");
        }

        app.Logs.Entries.Count(entry => entry.Category.EndsWith(nameof(StripeWebhooks), StringComparison.Ordinal) && entry.Level == Microsoft.Extensions.Logging.LogLevel.Warning)
            .ShouldBe(payloads.Length);
        app.Logs.Entries.ShouldNotContain(entry => entry.Level >= Microsoft.Extensions.Logging.LogLevel.Error || entry.Exception != null);
    }

    [Fact]
    public async Task An_event_of_an_api_version_stripe_net_cannot_read_is_refused_for_stripe_to_retry_and_alerts()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("versioned@example.com");
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter");
        var intentId = stripe.CreateIntentFor(session.Id);
        var old = StripeEvent.Of("payment_intent.succeeded", new JsonObject
        {
            ["id"] = intentId, ["object"] = "payment_intent", ["metadata"] = new JsonObject { ["apptork_payment_id"] = session.Id.ToString() },
        }, apiVersion: "2024-06-20");

        using (var refused = await checkout.DeliverAsync(old.Json, await stripe.SignAsync(old.Json)))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.UnprocessableEntity, "client_error", "webhook_api_version_mismatch");
        }

        app.Logs.Entries.ShouldContain(entry => entry.Level == Microsoft.Extensions.Logging.LogLevel.Critical && entry.Message.Contains("2024-06-20"));
        (await new WalletBooks(app).BalanceAsync(signedIn.User.Id)).ShouldBeNull();
        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("pending");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_refund_after_the_credits_were_spent_takes_what_is_left_and_books_the_rest_as_shortfall(DatabaseShape shape)
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("spent.it@example.com");
        var user = signedIn.User.Id;
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);
        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter");
        var intentId = stripe.CreateIntentFor(session.Id);
        await checkout.DeliverOkAsync(stripe, LocalStripe.SessionCompleted("cs_test_spent", session.Id, intentId));
        await books.PostAsync(user, -70, "generation-1");

        // A fifth of the money back first: ceil(100 × 100 / 499) = 21 credits, all still there.
        await checkout.DeliverOkAsync(stripe, LocalStripe.ChargeRefunded(intentId, 499, 100));
        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("partially_refunded");
        await books.ShouldAddUpAsync(user, 9);
        (await books.WithDbAsync(db => db.AccountFlags.CountAsync(Cancel))).ShouldBe(0);
        (await books.BalanceAsync(SystemAccounts.Shortfall)).ShouldBe(0);

        // Then the rest: 79 more credits, of which 9 are left; the same notification again changes nothing.
        var fullRefund = LocalStripe.ChargeRefunded(intentId, 499, 499);
        await checkout.DeliverOkAsync(stripe, fullRefund);
        await checkout.DeliverOkAsync(stripe, fullRefund, "duplicate");

        var payment = await checkout.GetAsync(signedIn.AccessToken, session.Id);
        (payment.Status, payment.CreditsReversed).ShouldBe(("refunded", 100L));
        await books.ShouldAddUpAsync(user, 0);
        await books.ShouldAddUpAsync(SystemAccounts.Shortfall, 70);
        var entries = await books.EntriesAsync(user);
        entries.Select(entry => (entry.Amount, entry.Kind)).ShouldBe([
            (100L, LedgerEntryKind.Purchase), (-70L, LedgerEntryKind.Generation), (-21L, LedgerEntryKind.Reversal), (-9L, LedgerEntryKind.Reversal),
        ]);
        var flag = await books.WithDbAsync(db => db.AccountFlags.SingleAsync(Cancel));
        (flag.UserId, flag.Reason, flag.Reference).ShouldBe((user, AccountFlag.PaymentShortfall, $"payment:{session.Id:N}"));
        flag.Detail.ShouldBe("70 of 100 credits had been spent when the payment was taken back.");
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_refund_that_arrives_before_the_completed_session_is_applied_whole()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("out.of.order@example.com");
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);
        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter");
        var intentId = stripe.CreateIntentFor(session.Id);

        // The charge names only the PaymentIntent, which the application has not heard of: Stripe's API says whose it is.
        await checkout.DeliverOkAsync(stripe, LocalStripe.ChargeRefunded(intentId, 499, 499));
        await checkout.DeliverOkAsync(stripe, LocalStripe.SessionCompleted("cs_test_late", session.Id, intentId));

        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("refunded");
        await books.ShouldAddUpAsync(signedIn.User.Id, 0);
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => entry.Amount).ShouldBe([100L, -100L]);
        (await books.BalanceAsync(SystemAccounts.Shortfall)).ShouldBe(0);
    }

    [Fact]
    public async Task A_lost_dispute_takes_the_credits_back_and_a_won_one_changes_nothing()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("disputed@example.com");
        var checkout = new CheckoutClient(app);
        var books = new WalletBooks(app);
        var won = await checkout.StartOkAsync(signedIn.AccessToken, "starter");
        var wonIntent = stripe.CreateIntentFor(won.Id);
        await checkout.DeliverOkAsync(stripe, LocalStripe.SessionCompleted("cs_test_won", won.Id, wonIntent));
        var lost = await checkout.StartOkAsync(signedIn.AccessToken, "standard");
        var lostIntent = stripe.CreateIntentFor(lost.Id);
        await checkout.DeliverOkAsync(stripe, LocalStripe.SessionCompleted("cs_test_lost", lost.Id, lostIntent));

        await checkout.DeliverOkAsync(stripe, LocalStripe.DisputeClosed(wonIntent, 499, "won"), "ignored");
        await checkout.DeliverOkAsync(stripe, LocalStripe.DisputeClosed(lostIntent, 1999, "lost"));

        (await checkout.GetAsync(signedIn.AccessToken, won.Id)).Status.ShouldBe("paid");
        (await checkout.GetAsync(signedIn.AccessToken, lost.Id)).Status.ShouldBe("refunded");
        await books.ShouldAddUpAsync(signedIn.User.Id, 100);
    }

    [Fact]
    public async Task Failed_payment_notifications_count_towards_the_checkout_lock_once_each()
    {
        await using var stripe = await LocalStripe.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, stripe.Settings);
        var signedIn = await new AuthClient(app).SignInAsync("declined@example.com");
        var checkout = new CheckoutClient(app);
        var session = await checkout.StartOkAsync(signedIn.AccessToken, "starter", flow: "payment_sheet");
        var intentId = session.ClientSecret!.Split("_secret_")[0];

        var first = LocalStripe.IntentFailed(intentId, session.Id);
        await checkout.DeliverOkAsync(stripe, first);
        for (var redelivery = 0; redelivery < 5; redelivery++)
        {
            await checkout.DeliverOkAsync(stripe, first, "duplicate");
        }

        (await checkout.GetAsync(signedIn.AccessToken, session.Id)).Status.ShouldBe("failed");
        (await checkout.StartAsync(signedIn.AccessToken, "starter")).StatusCode.ShouldBe(HttpStatusCode.Created);
        for (var attempt = 0; attempt < 4; attempt++)
        {
            await checkout.DeliverOkAsync(stripe, LocalStripe.IntentFailed(intentId, session.Id));
        }

        using var locked = await checkout.StartAsync(signedIn.AccessToken, "starter");
        await ErrorAssert.SingleAsync(locked, HttpStatusCode.Locked, "client_error", "checkout_locked");

        // A card that finally works still pays for the session, lock or not: the lock guards new checkouts.
        await checkout.DeliverOkAsync(stripe, LocalStripe.IntentSucceeded(intentId, session.Id));
        await new WalletBooks(app).ShouldAddUpAsync(signedIn.User.Id, 100);
    }
}
