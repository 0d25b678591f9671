using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Throttling;

/// <summary>The scopes over HTTP, in both shapes: embedded counts in-process, production in Redis shared by every instance.</summary>
public sealed class ThrottlingTests(PostgresServer postgres, RedisServer redis)
{
    private const string WhoAmI = "/api/v1/auth/whoami";
    private const string AnonRate = "Throttling:Rates:anon:anonymous";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<ThrottleShape> Shapes => ThrottleProbe.Shapes;

    [Fact]
    public async Task Two_instances_on_one_redis_share_one_limit_not_one_each()
    {
        var settings = ThrottleProbe.Settings(ThrottleShape.Production, redis, (AnonRate, "6/minute"));
        var database = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        await using var first = await RootApp.StartOnAsync(DatabaseShape.Postgres, database, settings);
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, database, settings);
        var clients = new[] { first.Client(), second.Client() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(index => clients[index % 2].GetAsync(WhoAmI, Cancel)));

        responses.Count(response => response.StatusCode == HttpStatusCode.OK).ShouldBe(6);
        responses.Count(response => response.StatusCode == HttpStatusCode.TooManyRequests).ShouldBe(14);
        using var afterwards = await first.Client().GetAsync(WhoAmI, Cancel);
        afterwards.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        DisposeAll(responses);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Racing_requests_at_the_limit_let_exactly_the_limit_through(ThrottleShape shape)
    {
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape), ThrottleProbe.Settings(shape, redis, (AnonRate, "10/minute")));
        var client = app.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.GetAsync(WhoAmI, Cancel)));

        responses.Count(response => response.StatusCode == HttpStatusCode.OK).ShouldBe(10);
        foreach (var refused in responses.Where(response => response.StatusCode != HttpStatusCode.OK))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.TooManyRequests, "client_error", "throttled");
        }

        DisposeAll(responses);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Headers_say_the_quota_what_is_left_and_when_it_resets_and_a_refusal_says_when_to_retry(ThrottleShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape), ThrottleProbe.Settings(shape, redis, (AnonRate, "3/minute")), ThrottleProbe.Extensions(clock));
        var client = app.Client("fr");

        await ExpectAsync(HttpStatusCode.OK, "\"anon\";r=2;t=60");
        clock.Advance(TimeSpan.FromSeconds(15));
        await ExpectAsync(HttpStatusCode.OK, "\"anon\";r=1;t=45");
        await ExpectAsync(HttpStatusCode.OK, "\"anon\";r=0;t=45");
        using (var refused = await ExpectAsync(HttpStatusCode.TooManyRequests, "\"anon\";r=0;t=45"))
        {
            refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(45));
            var error = await ErrorAssert.SingleAsync(refused, HttpStatusCode.TooManyRequests, "client_error", "throttled");
            error.Detail.ShouldContain("45");
            refused.Content.Headers.ContentLanguage.ShouldBe(["fr"]);
        }

        clock.Advance(TimeSpan.FromSeconds(44));
        (await ExpectAsync(HttpStatusCode.TooManyRequests, "\"anon\";r=0;t=1")).Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        await ExpectAsync(HttpStatusCode.OK, "\"anon\";r=2;t=60");

        async Task<HttpResponseMessage> ExpectAsync(HttpStatusCode status, string rateLimit)
        {
            var response = await client.GetAsync(WhoAmI, Cancel);
            response.StatusCode.ShouldBe(status);
            Header(response, "RateLimit-Policy").ShouldBe("\"anon\";q=3;w=60");
            Header(response, "RateLimit").ShouldBe(rateLimit);
            return response;
        }
    }

    [Fact]
    public async Task Every_scope_an_endpoint_counts_in_is_told_on_errors_too()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using var response = await app.Client().PostAsync("/api/v1/auth/otp/request", content, Cancel);

        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "validation_error", "required", "email");
        Header(response, "RateLimit-Policy").ShouldBe("\"anon\";q=60;w=60, \"otp\";q=20;w=3600");
        Header(response, "RateLimit").ShouldBe("\"anon\";r=59;t=60, \"otp\";r=19;t=3600");
    }

    [Fact]
    public async Task Every_api_endpoint_is_throttled_per_caller_and_sign_in_codes_also_in_the_otp_scope()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText!.StartsWith("/api/v1/", StringComparison.Ordinal))
            .ToList();
        endpoints.Count.ShouldBeGreaterThan(10);
        // Only the providers' webhooks are exempt.
        endpoints.Where(endpoint => endpoint.Metadata.GetMetadata<ThrottleExemptMetadata>() is not null).Select(endpoint => endpoint.RoutePattern.RawText!).Order()
            .ShouldBe(["/api/v1/checkout/webhooks/stripe", "/api/v1/purchases/apple/notifications", "/api/v1/purchases/google/notifications"]);

        foreach (var endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<ThrottleExemptMetadata>() is { } exempt)
            {
                exempt.Reason.ShouldNotBeNullOrWhiteSpace();
                endpoint.Metadata.GetOrderedMetadata<ThrottleMetadata>().ShouldBeEmpty(endpoint.DisplayName);
                continue;
            }

            var scopes = endpoint.Metadata.GetOrderedMetadata<ThrottleMetadata>().SelectMany(metadata => metadata.Scopes).ToList();
            scopes.Take(2).ShouldBe([ThrottleScopes.Anon, ThrottleScopes.User], endpoint.DisplayName);
            if (endpoint.RoutePattern.RawText!.StartsWith("/api/v1/auth/otp/", StringComparison.Ordinal))
            {
                scopes.ShouldContain(ThrottleScopes.Otp, endpoint.DisplayName);
            }
        }
    }

    [Fact]
    public async Task An_exempt_endpoint_sheds_the_scopes_of_its_group()
    {
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), DatabaseShape.Sqlite, ThrottleProbe.Settings(ThrottleShape.Embedded, redis, (AnonRate, "1/minute")), ThrottleProbe.Extensions());
        var client = app.Client();

        using (var counted = await client.GetAsync(ThrottleProbe.CountedInGroup, Cancel))
        {
            counted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var refused = await client.GetAsync(ThrottleProbe.CountedInGroup, Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "the group's anon scope applies");
        }

        for (var hit = 0; hit < 3; hit++)
        {
            using var exempt = await client.GetAsync(ThrottleProbe.ExemptInGroup, Cancel);
            exempt.StatusCode.ShouldBe(HttpStatusCode.NoContent);
            exempt.Headers.Contains("RateLimit").ShouldBeFalse("nothing is counted for an exempt endpoint");
        }

        var endpoint = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Single(candidate => candidate.RoutePattern.RawText == ThrottleProbe.ExemptInGroup);
        endpoint.Metadata.GetOrderedMetadata<ThrottleMetadata>().ShouldBeEmpty();
        endpoint.Metadata.GetOrderedMetadata<ApiErrorsMetadata>().SelectMany(declared => declared.Errors)
            .ShouldNotContain(ErrorCatalog.Throttled, "the OpenAPI document does not promise a 429 that never comes");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Each_role_gets_its_own_rate(ThrottleShape shape)
    {
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape),
            ThrottleProbe.Settings(shape, redis,
                ("Throttling:Rates:user:free", "2/minute"), ("Throttling:Rates:user:premium", "3/minute"), ("Throttling:Rates:user:staff", "5/minute"),
                ("Throttling:Rates:ai_generation:free", "1/minute"), ("Throttling:Rates:ai_generation:premium", "2/minute")),
            ThrottleProbe.Extensions());
        var auth = new AuthClient(app);
        var free = (await auth.SignInAsync("free@example.com")).AccessToken;
        var premium = await SignInWithRoleAsync(app, auth, "premium@example.com", "premium");
        var staff = await SignInWithRoleAsync(app, auth, "staff@example.com", "staff");

        await AllowedThenRefusedAsync(auth, HttpMethod.Get, WhoAmI, free, 2, "\"user\";q=2;w=60");
        await AllowedThenRefusedAsync(auth, HttpMethod.Get, WhoAmI, premium, 3, "\"user\";q=3;w=60");
        await AllowedThenRefusedAsync(auth, HttpMethod.Get, WhoAmI, staff, 5, "\"user\";q=5;w=60");
        await AllowedThenRefusedAsync(auth, HttpMethod.Post, ThrottleProbe.Generations, free, 1, "\"ai_generation\";q=1;w=60");
        await AllowedThenRefusedAsync(auth, HttpMethod.Post, ThrottleProbe.Generations, premium, 2, "\"ai_generation\";q=2;w=60");
    }

    [Fact]
    public async Task The_checkout_and_generation_routes_count_in_their_own_scopes()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?>
        {
            ["Throttling:Rates:checkout:free"] = "1/hour",
            ["Throttling:Rates:ai_generation:free"] = "1/minute",
        });
        var signedIn = await new AuthClient(app).SignInAsync("real.routes@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 10, "grant", LedgerEntryKind.Adjustment);

        var checkout = new CheckoutClient(app);
        using (var allowed = await checkout.StartAsync(signedIn.AccessToken, "starter"))
        {
            allowed.StatusCode.ShouldBe(HttpStatusCode.Created);
            Header(allowed, "RateLimit-Policy").ShouldContain("\"checkout\";q=1;w=3600");
        }

        using (var refused = await checkout.StartAsync(signedIn.AccessToken, "starter"))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.TooManyRequests, "client_error", "throttled");
            Header(refused, "RateLimit").ShouldContain("\"checkout\";r=0;");
        }

        var generations = new GenerationClient(app, signedIn.AccessToken);
        using (var allowed = await generations.CreateAsync("text", "counted", Guid.NewGuid().ToString()))
        {
            allowed.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            Header(allowed, "RateLimit-Policy").ShouldContain("\"ai_generation\";q=1;w=60");
        }

        using (var refused = await generations.CreateAsync("text", "one too many", Guid.NewGuid().ToString()))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.TooManyRequests, "client_error", "throttled");
            Header(refused, "RateLimit").ShouldContain("\"ai_generation\";r=0;");
        }
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Codes_for_one_address_are_capped_whichever_ips_ask_for_them(ThrottleShape shape)
    {
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape),
            ThrottleProbe.Settings(
                shape, redis, ("Throttling:Rates:otp:email", "3/hour"), ("ForwardedHeaders:KnownProxies:0", NginxProxy.Address.ToString()),
                // Without the resend window, so only the per-address limit can refuse.
                ("Auth:Otp:ResendAfterSeconds", "0")));
        await using var proxy = await NginxProxy.StartAsync(app.Client().BaseAddress!);

        var statuses = new List<HttpStatusCode>();
        for (var machine = 10; machine < 15; machine++)
        {
            using var client = ClientFrom.Address($"127.0.0.{machine}", proxy.BaseAddress);
            using var response = await client.PostAsJsonAsync("/api/v1/auth/otp/request", new { email = "Victim@Example.com" }, Cancel);
            statuses.Add(response.StatusCode);
            // Each machine is a fresh partition of the per-IP limit: only the per-address one can refuse.
            Header(response, "RateLimit").ShouldContain("\"otp\";r=19;");
        }

        statuses.ShouldBe([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]);
        // The request that reached the ceiling told the owner why no more codes come.
        await new AuthClient(app).WaitForMailAsync("Victim@Example.com", "no more codes are sent");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Codes_from_one_ip_are_capped_across_addresses_and_verifies_per_address(ThrottleShape shape)
    {
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape),
            ThrottleProbe.Settings(shape, redis, ("Throttling:Rates:otp:anonymous", "6/hour"), ("Throttling:Rates:otp:email_verify", "2/hour")));
        var auth = new AuthClient(app);
        var requested = await auth.RequestCodeAsync("guessed@example.com");
        var wrong = await auth.LastCodeForAsync("guessed@example.com") == "000000" ? "111111" : "000000";
        using (var first = await auth.VerifyAsync(requested.OtpToken, wrong))
        {
            await ErrorAssert.SingleAsync(first, HttpStatusCode.BadRequest, "client_error", "invalid_otp", "code");
        }

        using (var second = await auth.VerifyAsync(requested.OtpToken, wrong))
        {
            await ErrorAssert.SingleAsync(second, HttpStatusCode.BadRequest, "client_error", "invalid_otp", "code");
        }

        using (var third = await auth.VerifyAsync(requested.OtpToken, wrong))
        {
            await ErrorAssert.SingleAsync(third, HttpStatusCode.TooManyRequests, "client_error", "throttled");
        }

        await auth.RequestCodeAsync("other.one@example.com");
        await auth.RequestCodeAsync("other.two@example.com");
        using var sixth = await auth.Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email = "other.three@example.com" }, Cancel);
        await ErrorAssert.SingleAsync(sixth, HttpStatusCode.TooManyRequests, "client_error", "throttled");
        Header(sixth, "RateLimit").ShouldContain("\"otp\";r=0;");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Repeated_failed_payments_lock_checkout_for_the_user_and_the_device(ThrottleShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape),
            ThrottleProbe.Settings(shape, redis,
                ("Throttling:CheckoutLock:Failures", "3/hour"), ("Throttling:CheckoutLock:Duration", "30m"), ("Auth:Jwt:AccessTokenMinutes", "60")),
            ThrottleProbe.Extensions(clock));
        var auth = new AuthClient(app, "de");
        var alice = (await auth.SignInAsync("alice@example.com")).AccessToken;
        var bob = (await auth.SignInAsync("bob@example.com")).AccessToken;

        for (var failure = 0; failure < 3; failure++)
        {
            (await StatusOfAsync(auth, ThrottleProbe.CheckoutSessions, alice, "alices-phone")).ShouldBe(HttpStatusCode.Created, "not locked yet");
            (await StatusOfAsync(auth, ThrottleProbe.FailedPayments, alice, "alices-phone")).ShouldBe(HttpStatusCode.NoContent);
            clock.Advance(TimeSpan.FromMinutes(1));
        }

        using (var locked = await SendAsync(auth, ThrottleProbe.CheckoutSessions, alice, "alices-phone"))
        {
            var error = await ErrorAssert.SingleAsync(locked, HttpStatusCode.Locked, "client_error", "checkout_locked");
            error.Detail.ShouldContain("1740");
            locked.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromMinutes(29));
        }

        (await StatusOfAsync(auth, ThrottleProbe.CheckoutSessions, alice, deviceId: null)).ShouldBe(HttpStatusCode.Locked, "the user is locked on any device");
        (await StatusOfAsync(auth, ThrottleProbe.CheckoutSessions, bob, "bobs-tablet")).ShouldBe(HttpStatusCode.Created);
        (await StatusOfAsync(auth, ThrottleProbe.CheckoutSessions, bob, "alices-phone")).ShouldBe(HttpStatusCode.Locked, "the device is locked for anyone");

        clock.Advance(TimeSpan.FromMinutes(29));
        (await StatusOfAsync(auth, ThrottleProbe.CheckoutSessions, alice, "alices-phone")).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task While_redis_is_down_otp_and_checkout_fail_closed_the_rest_open_and_all_recover()
    {
        await using var ownRedis = new RedisServer();
        await ownRedis.InitializeAsync();
        await using var stripe = await LocalStripe.StartAsync();
        // A rate too small for batches: every hit goes to Redis, so the outage shows at once.
        var settings = ThrottleProbe.Settings(ThrottleShape.Production, ownRedis, ("Throttling:Rates:anon:anonymous", "20/minute"));
        foreach (var (key, value) in stripe.Settings)
        {
            settings[key] = value;
        }

        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, settings, ThrottleProbe.Extensions());
        var auth = new AuthClient(app);
        var token = (await auth.SignInAsync("outage@example.com")).AccessToken;
        var checkout = new CheckoutClient(app);
        // The real checkout route lets this caller through while Redis is up: a refusal below is the outage's doing.
        await checkout.StartOkAsync(token, "starter");

        await ownRedis.StopAsync();

        using (var open = await auth.Http.GetAsync(WhoAmI, Cancel))
        {
            open.StatusCode.ShouldBe(HttpStatusCode.OK);
            open.Headers.Contains("RateLimit").ShouldBeFalse("nothing was counted, so nothing is told");
        }

        (await StatusOfAsync(auth, ThrottleProbe.Generations, token, deviceId: null)).ShouldBe(HttpStatusCode.Accepted);
        using (var closed = await auth.Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email = "outage@example.com" }, Cancel))
        {
            await ErrorAssert.SingleAsync(closed, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
            closed.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(5));
        }

        using (var probe = await SendAsync(auth, ThrottleProbe.CheckoutSessions, token, deviceId: null))
        {
            await ErrorAssert.SingleAsync(probe, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
        }

        using (var realCheckout = await checkout.StartAsync(token, "starter"))
        {
            await ErrorAssert.SingleAsync(realCheckout, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
        }

        (await new WalletBooks(app).WithDbAsync(db => db.Payments.CountAsync(Cancel))).ShouldBe(1, "no checkout was started during the outage");

        app.Logs.Entries.Count(entry => entry.Level == LogLevel.Warning && entry.Message.StartsWith("Throttling store unreachable", StringComparison.Ordinal))
            .ShouldBe(1, "the warning is rate-limited, not one per request");

        await ownRedis.StartAsync();
        var recovered = await EventuallyAsync(async () =>
        {
            using var response = await auth.Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email = "outage@example.com" }, Cancel);
            return response.StatusCode == HttpStatusCode.Accepted;
        });
        recovered.ShouldBeTrue("otp requests work again once Redis is back");
        using var counted = await auth.Http.GetAsync(WhoAmI, Cancel);
        Header(counted, "RateLimit").ShouldStartWith("\"anon\";r=");
    }

    private static async Task<string> SignInWithRoleAsync(RootApp app, AuthClient auth, string email, string role)
    {
        var userId = (await auth.SignInAsync(email)).User.Id;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RootDbContext>().Users
                .Where(user => user.Id == userId)
                .ExecuteUpdateAsync(setters => setters.SetProperty(user => user.Role, role), Cancel);
        }

        // The role travels in the access token, so it takes effect at the next sign-in or refresh.
        var signedIn = await auth.SignInAsync(email);
        signedIn.User.Role.ShouldBe(role);
        return signedIn.AccessToken;
    }

    private static async Task AllowedThenRefusedAsync(AuthClient auth, HttpMethod method, string path, string token, int limit, string policy)
    {
        for (var hit = 0; hit < limit; hit++)
        {
            using var allowed = await auth.SendAsync(method, path, token);
            allowed.IsSuccessStatusCode.ShouldBeTrue($"{path} hit {hit + 1} of {limit}: {(int)allowed.StatusCode}");
            Header(allowed, "RateLimit-Policy").ShouldBe(policy);
        }

        using var refused = await auth.SendAsync(method, path, token);
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.TooManyRequests, "client_error", "throttled");
    }

    private static Task<HttpResponseMessage> SendAsync(AuthClient auth, string path, string token, string? deviceId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (deviceId is not null)
        {
            request.Headers.Add("X-Device-Id", deviceId);
        }

        return auth.Http.SendAsync(request, Cancel);
    }

    private static async Task<HttpStatusCode> StatusOfAsync(AuthClient auth, string path, string token, string? deviceId)
    {
        using var response = await SendAsync(auth, path, token, deviceId);
        return response.StatusCode;
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100, Cancel);
        }

        return false;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : throw new ShouldAssertException($"{name} is missing");

    private static void DisposeAll(IEnumerable<HttpResponseMessage> responses)
    {
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
