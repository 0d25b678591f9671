using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Features.Auth;
using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Apptork.Root.Tests.Platform.Throttling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

public sealed class OtpSignInTests(PostgresServer postgres, RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task First_verify_creates_the_account_and_later_ones_sign_into_it(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);

        var requested = await auth.RequestCodeAsync("Ana.Silva@Example.com");
        requested.ExpiresIn.ShouldBe(600);
        requested.ResendAfter.ShouldBe(60);
        requested.OtpToken.Length.ShouldBeGreaterThanOrEqualTo(43);

        using var verified = await auth.VerifyAsync(requested.OtpToken, await auth.LastCodeForAsync("Ana.Silva@Example.com"));
        verified.StatusCode.ShouldBe(HttpStatusCode.OK);
        var first = (await verified.Content.ReadFromJsonAsync<AuthClient.SignedIn>(TestJson.Options, Cancel))!;
        first.IsNewUser.ShouldBeTrue();
        first.TokenType.ShouldBe("Bearer");
        first.ExpiresIn.ShouldBe(900);
        first.RefreshExpiresIn.ShouldBe(30 * 24 * 3600);
        first.User.Email.ShouldBe("Ana.Silva@example.com");

        var second = await auth.SignInAsync("ana.silva@example.com");
        second.IsNewUser.ShouldBeFalse();
        second.User.Id.ShouldBe(first.User.Id);
    }

    [Fact]
    public async Task The_request_answer_is_the_same_for_known_and_unknown_addresses()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        await auth.SignInAsync("known@example.com");

        using var known = await auth.Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email = "known@example.com" }, Cancel);
        using var unknown = await auth.Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email = "stranger@example.com" }, Cancel);
        unknown.StatusCode.ShouldBe(known.StatusCode);
        Shape(unknown).ShouldBe(Shape(known));
        var knownBody = await known.Content.ReadFromJsonAsync<Dictionary<string, object>>(Cancel);
        var unknownBody = await unknown.Content.ReadFromJsonAsync<Dictionary<string, object>>(Cancel);
        unknownBody!.Keys.ShouldBe(knownBody!.Keys);
        unknownBody["expires_in"].ToString().ShouldBe(knownBody["expires_in"].ToString());
        unknownBody["otp_token"].ToString()!.Length.ShouldBe(knownBody["otp_token"].ToString()!.Length);

        static string[] Shape(HttpResponseMessage response) => response.Headers.Concat(response.Content.Headers)
            .Where(header => header.Key is not ("Date" or "X-Correlation-Id" or "Content-Length" or "RateLimit"))
            .Select(header => $"{header.Key}: {string.Join(",", header.Value)}")
            .Order(StringComparer.Ordinal).ToArray();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_wrong_code_is_invalid_and_five_kill_the_challenge_even_for_the_right_code(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var requested = await auth.RequestCodeAsync("guess@example.com");
        var code = await auth.LastCodeForAsync("guess@example.com");
        var wrong = code == "000000" ? "111111" : "000000";

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            using var response = await auth.VerifyAsync(requested.OtpToken, wrong);
            await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "client_error", "invalid_otp", "code");
        }

        using (var fifth = await auth.VerifyAsync(requested.OtpToken, wrong))
        {
            await ErrorAssert.SingleAsync(fifth, HttpStatusCode.BadRequest, "client_error", "otp_attempts_exceeded", "code");
        }

        using var right = await auth.VerifyAsync(requested.OtpToken, code);
        await ErrorAssert.SingleAsync(right, HttpStatusCode.BadRequest, "client_error", "otp_attempts_exceeded", "code");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_code_works_once_and_one_retired_by_a_newer_request_is_superseded_not_expired(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        var older = await auth.RequestCodeAsync("once@example.com");
        var olderCode = await auth.LastCodeForAsync("once@example.com");
        clock.Advance(TimeSpan.FromSeconds(60));
        var newer = await auth.RequestCodeAsync("once@example.com");
        var newerCode = await auth.LastCodeForAsync("once@example.com");

        using (var retired = await auth.VerifyAsync(older.OtpToken, olderCode))
        {
            var error = await ErrorAssert.SingleAsync(retired, HttpStatusCode.BadRequest, "client_error", "otp_superseded", "code");
            error.Detail.ShouldBe("A newer code was sent; use the code from the latest email.");
        }

        using (var used = await auth.VerifyAsync(newer.OtpToken, newerCode))
        {
            used.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var again = await auth.VerifyAsync(newer.OtpToken, newerCode);
        await ErrorAssert.SingleAsync(again, HttpStatusCode.BadRequest, "client_error", "otp_expired", "code");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_request_inside_the_resend_window_is_refused_alike_for_every_address_and_the_waiting_code_keeps_working(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        await auth.SignInAsync("member@example.com");
        var waiting = await auth.RequestCodeAsync("member@example.com");
        await auth.RequestCodeAsync("nobody@example.com");
        clock.Advance(TimeSpan.FromSeconds(20));

        var answers = new List<string>();
        foreach (var email in new[] { "member@example.com", "nobody@example.com" })
        {
            using var tooSoon = await auth.Http.PostAsJsonAsync("/api/v1/auth/otp/request", new { email }, Cancel);
            await ErrorAssert.SingleAsync(tooSoon, HttpStatusCode.TooManyRequests, "client_error", "otp_resend_too_soon", "email");
            tooSoon.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(40));
            answers.Add(await tooSoon.Content.ReadAsStringAsync(Cancel));
        }

        answers[1].ShouldBe(answers[0]);
        using var verified = await auth.VerifyAsync(waiting.OtpToken, await auth.LastCodeForAsync("member@example.com"));
        verified.StatusCode.ShouldBe(HttpStatusCode.OK, "the refused resend neither mailed a code nor retired the waiting one");

        clock.Advance(TimeSpan.FromSeconds(40));
        await auth.RequestCodeAsync("nobody@example.com");
    }

    [Fact]
    public async Task Concurrent_verifies_of_one_code_sign_in_exactly_once()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var auth = new AuthClient(app);
        var requested = await auth.RequestCodeAsync("race@example.com");
        var code = await auth.LastCodeForAsync("race@example.com");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => auth.VerifyAsync(requested.OtpToken, code)));
        responses.Count(response => response.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        responses.Where(response => response.StatusCode != HttpStatusCode.OK).ShouldAllBe(response => response.StatusCode == HttpStatusCode.BadRequest);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_code_expires_after_ten_minutes(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        var requested = await auth.RequestCodeAsync("late@example.com");
        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        using var response = await auth.VerifyAsync(requested.OtpToken, await auth.LastCodeForAsync("late@example.com"));
        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "client_error", "otp_expired", "code");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Failures_across_challenges_spend_the_clients_daily_budget_for_the_address(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        for (var challenge = 0; challenge < 2; challenge++)
        {
            var requested = await auth.RequestCodeAsync("target@example.com");
            var wrong = await auth.LastCodeForAsync("target@example.com") == "000000" ? "111111" : "000000";
            for (var attempt = 0; attempt < 5; attempt++)
            {
                (await auth.VerifyAsync(requested.OtpToken, wrong)).Dispose();
            }

            clock.Advance(TimeSpan.FromMinutes(1));
        }

        var fresh = await auth.RequestCodeAsync("target@example.com");
        using (var locked = await auth.VerifyAsync(fresh.OtpToken, await auth.LastCodeForAsync("target@example.com")))
        {
            await ErrorAssert.SingleAsync(locked, HttpStatusCode.TooManyRequests, "client_error", "otp_locked", "code");
            locked.Headers.RetryAfter!.Delta!.Value.ShouldBeGreaterThan(TimeSpan.FromHours(23));
        }

        clock.Advance(TimeSpan.FromHours(24));
        var later = await auth.RequestCodeAsync("target@example.com");
        using var unlocked = await auth.VerifyAsync(later.OtpToken, await auth.LastCodeForAsync("target@example.com"));
        unlocked.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    public static TheoryData<ThrottleShape> ThrottleShapes => ThrottleProbe.Shapes;

    [Theory, MemberData(nameof(ThrottleShapes))]
    public async Task A_stranger_spends_only_their_own_budgets_and_the_owner_still_signs_in(ThrottleShape shape)
    {
        const string Email = "owner@example.com";
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape),
            // Without the resend window, so only the budgets can refuse.
            ThrottleProbe.Settings(shape, redis, ("Auth:Otp:ResendAfterSeconds", "0")));
        var auth = new AuthClient(app);
        var stranger = auth.OnMachine("127.0.0.3", "stranger-phone");
        var owner = auth.OnMachine("127.0.0.4", "owner-phone");

        for (var challenge = 0; challenge < 2; challenge++)
        {
            var requested = await stranger.RequestCodeAsync(Email);
            var wrong = await stranger.WrongCodeForAsync(Email);
            for (var attempt = 0; attempt < 5; attempt++)
            {
                (await stranger.VerifyAsync(requested.OtpToken, wrong)).Dispose();
            }
        }

        var third = await stranger.RequestCodeAsync(Email);
        using (var locked = await stranger.VerifyAsync(third.OtpToken, await stranger.LastCodeForAsync(Email)))
        {
            await ErrorAssert.SingleAsync(locked, HttpStatusCode.TooManyRequests, "client_error", "otp_locked", "code");
        }

        await stranger.RequestCodeAsync(Email);
        await stranger.RequestCodeAsync(Email);
        using (var sixth = await stranger.TryRequestCodeAsync(Email))
        {
            await ErrorAssert.SingleAsync(sixth, HttpStatusCode.TooManyRequests, "client_error", "throttled");
            // 17 of the IP's 20 otp requests spent: the refusal is the address's budget for this client, not the IP's.
            string.Join(",", sixth.Headers.GetValues("RateLimit")).ShouldContain("\"otp\";r=3;");
        }

        var mine = await owner.RequestCodeAsync(Email);
        using var signedIn = await owner.VerifyAsync(mine.OtpToken, await owner.LastCodeForAsync(Email));
        signedIn.StatusCode.ShouldBe(HttpStatusCode.OK, "the stranger spent their own budgets, not the owner's");
    }

    [Theory, MemberData(nameof(ThrottleShapes))]
    public async Task The_address_wide_ceiling_bounds_the_wrong_codes_of_all_clients_together_and_tells_the_owner(ThrottleShape shape)
    {
        const string Email = "ceiling@example.com";
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), ThrottleProbe.Database(shape),
            ThrottleProbe.Settings(
                shape, redis, ("Auth:Otp:ResendAfterSeconds", "0"), ("Throttling:Rates:otp:failed_codes", "5/day"), ("Auth:Otp:FailedVerifyBudget", "10")));
        var auth = new AuthClient(app);
        var first = auth.OnMachine("127.0.0.3", "first-phone");
        var second = auth.OnMachine("127.0.0.5", "second-phone");
        var owner = auth.OnMachine("127.0.0.4", "owner-phone");

        await SpendOneCodeAsync(first);
        var again = await first.RequestCodeAsync(Email);
        using (var clientLocked = await first.VerifyAsync(again.OtpToken, await first.WrongCodeForAsync(Email)))
        {
            await ErrorAssert.SingleAsync(clientLocked, HttpStatusCode.TooManyRequests, "client_error", "otp_locked", "code");
        }

        await SpendOneCodeAsync(second);
        await auth.WaitForMailAsync(Email, "locked until");
        var mine = await owner.RequestCodeAsync(Email);
        using var addressLocked = await owner.VerifyAsync(mine.OtpToken, await owner.LastCodeForAsync(Email));
        await ErrorAssert.SingleAsync(addressLocked, HttpStatusCode.TooManyRequests, "client_error", "otp_locked", "code");
        addressLocked.Headers.RetryAfter!.Delta!.Value.ShouldBeGreaterThan(TimeSpan.FromHours(23));

        async Task SpendOneCodeAsync(AuthClient client)
        {
            var requested = await client.RequestCodeAsync(Email);
            var wrong = await client.WrongCodeForAsync(Email);
            for (var attempt = 1; attempt <= 5; attempt++)
            {
                using var response = await client.VerifyAsync(requested.OtpToken, wrong);
                await ErrorAssert.SingleAsync(
                    response, HttpStatusCode.BadRequest, "client_error", attempt < 5 ? "invalid_otp" : "otp_attempts_exceeded", "code");
            }
        }
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Codes_are_stored_only_as_keyed_hashes(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var requested = await auth.RequestCodeAsync("stored@example.com");
        var code = await auth.LastCodeForAsync("stored@example.com");

        await using var scope = app.Services.CreateAsyncScope();
        var challenge = await scope.ServiceProvider.GetRequiredService<RootDbContext>().OtpChallenges.SingleAsync(candidate => candidate.Email == "stored@example.com", Cancel);
        // A plain hash of a six-digit code is reversed in a million tries; the code is kept only as an HMAC under the app's key.
        var stored = Encoding.UTF8.GetBytes($"{challenge.Id:N}:{code}");
        challenge.CodeMac.ShouldNotBe(SHA256.HashData(stored));
        challenge.CodeMac.ShouldBe(HMACSHA256.HashData(app.Services.GetRequiredService<AuthKeys>().OtpKey, stored));
        Convert.ToHexString(challenge.CodeMac).ShouldNotContain(code);
        challenge.TokenHash.ShouldNotBe(Encoding.UTF8.GetBytes(requested.OtpToken));
        challenge.Purpose.ShouldBe(OtpPurpose.SignIn);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Another_spelling_of_the_same_mailbox_signs_into_the_same_account(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var first = await auth.SignInAsync("ab@gmail.com");
        var again = await auth.SignInAsync("A.b+promo@googlemail.com");
        again.IsNewUser.ShouldBeFalse();
        again.User.Id.ShouldBe(first.User.Id);
        again.User.Email.ShouldBe("ab@gmail.com");
    }

    [Theory]
    [InlineData("someone@mailinator.com")]
    [InlineData("someone@x.mailinator.com")]
    [InlineData("someone@guerrillamail.com")]
    public async Task Disposable_addresses_are_refused_at_request(string email)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var response = await app.Client().PostAsJsonAsync("/api/v1/auth/otp/request", new { email }, Cancel);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "validation_error", "disposable_email", "email");
    }

    [Theory]
    [InlineData("""{"email": "not-an-address"}""", "invalid", "email")]
    [InlineData("""{"email": "a@b"}""", "invalid", "email")]
    [InlineData("""{"email": ""}""", "blank", "email")]
    [InlineData("""{}""", "required", "email")]
    public async Task Bad_addresses_are_field_errors(string body, string code, string attr)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await app.Client("es").PostAsync("/api/v1/auth/otp/request", content, Cancel);
        var error = await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "validation_error", code, attr);
        error.Detail.ShouldNotContain("This");
    }
}
