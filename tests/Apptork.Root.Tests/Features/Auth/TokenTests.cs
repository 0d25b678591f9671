using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apptork.Root.Features.Auth;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

public sealed class TokenTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task An_access_token_opens_me_and_a_forged_one_is_authentication_failed(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("me@example.com");

        using (var me = await auth.GetAsync("/api/v1/auth/me", signedIn.AccessToken))
        {
            me.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await me.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!.Id.ShouldBe(signedIn.User.Id);
        }

        using (var anonymous = await auth.Http.GetAsync("/api/v1/auth/me", Cancel))
        {
            await ErrorAssert.SingleAsync(anonymous, HttpStatusCode.Unauthorized, "client_error", "not_authenticated");
            anonymous.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer");
        }

        foreach (var forged in Forgeries(signedIn.AccessToken))
        {
            using var response = await auth.GetAsync("/api/v1/auth/me", forged.Token);
            await ErrorAssert.SingleAsync(response, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
        }
    }

    [Fact]
    public async Task Whoami_reads_the_token_alone_and_answers_anonymous_callers_too()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("whoami@example.com");

        using var anonymous = JsonDocument.Parse(await auth.Http.GetStringAsync("/api/v1/auth/whoami", Cancel));
        anonymous.RootElement.GetProperty("authenticated").GetBoolean().ShouldBeFalse();

        using var response = await auth.GetAsync("/api/v1/auth/whoami", signedIn.AccessToken);
        using var known = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        known.RootElement.GetProperty("authenticated").GetBoolean().ShouldBeTrue();
        known.RootElement.GetProperty("user_id").GetGuid().ShouldBe(signedIn.User.Id);
        known.RootElement.GetProperty("role").GetString().ShouldBe("free");
        known.RootElement.GetProperty("expires_at").GetDateTimeOffset().ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(14));
    }

    [Fact]
    public async Task An_access_token_is_accepted_up_to_thirty_seconds_after_it_expired_and_refused_after()
    {
        var databases = TestDatabases.For(postgres);
        var connectionString = await databases.CreatePostgresAsync();
        // The issuer signs on a clock set back, the validator checks on the real one: both started before any token is
        // made, so the tokens' ages when checked are what is set here plus a second or two. A fake clock only moves
        // forward, so it starts before the first token's time.
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-1));
        await using var issuer = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(past)));
        await using var validator = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString);
        var lifetime = TimeSpan.FromMinutes(issuer.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Jwt.AccessTokenMinutes);

        past.SetUtcNow(DateTimeOffset.UtcNow - lifetime - TimeSpan.FromSeconds(40));
        var beyondSkew = await new AuthClient(issuer).SignInAsync("stale@example.com");
        past.SetUtcNow(DateTimeOffset.UtcNow - lifetime - TimeSpan.FromSeconds(10));
        var withinSkew = await new AuthClient(issuer).SignInAsync("nearly.stale@example.com");
        new JsonWebToken(withinSkew.AccessToken).ValidTo.ShouldBeLessThan(DateTime.UtcNow, "the token accepted below has expired");

        var auth = new AuthClient(validator);
        using (var accepted = await auth.GetAsync("/api/v1/auth/me", withinSkew.AccessToken))
        {
            accepted.StatusCode.ShouldBe(HttpStatusCode.OK, "expired 10 s ago: inside the 30 s of clock skew");
        }

        using var refused = await auth.GetAsync("/api/v1/auth/me", beyondSkew.AccessToken);
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
    }

    [Fact]
    public async Task A_token_signed_with_our_key_for_another_issuer_audience_or_type_is_authentication_failed()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("pinned@example.com");
        var jwt = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Jwt;
        var genuine = new JsonWebToken(signedIn.AccessToken);
        var ourKey = app.Services.GetRequiredService<AuthKeys>().SigningCredentials;
        string Sign(string issuer, string audience, string type) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            TokenType = type,
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = genuine.Subject,
                ["sid"] = genuine.GetClaim("sid").Value,
                ["role"] = genuine.GetClaim("role").Value,
            },
            SigningCredentials = ourKey,
        });

        // Made the same way with our issuer, audience and type, the token opens the door: a refusal below is the one claim's doing.
        using (var control = await auth.GetAsync("/api/v1/auth/me", Sign(jwt.Issuer, jwt.Audience, "at+jwt")))
        {
            control.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        foreach (var (changed, token) in new[]
        {
            ("issuer", Sign("someone-else", jwt.Audience, "at+jwt")),
            ("audience", Sign(jwt.Issuer, "someone-elses-api", "at+jwt")),
            ("typ of an id token", Sign(jwt.Issuer, jwt.Audience, "JWT")),
        })
        {
            using var response = await auth.GetAsync("/api/v1/auth/me", token);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"another {changed}");
            await ErrorAssert.SingleAsync(response, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
        }
    }

    [Fact]
    public async Task A_genuinely_signed_token_whose_subject_or_session_is_no_uuid_is_authentication_failed()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("claims@example.com");
        var jwt = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Jwt;
        var genuine = new JsonWebToken(signedIn.AccessToken);
        string Sign(string subject, string session) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            TokenType = "at+jwt",
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["sid"] = session, ["role"] = genuine.GetClaim("role").Value },
            SigningCredentials = app.Services.GetRequiredService<AuthKeys>().SigningCredentials,
        });

        foreach (var path in new[] { "/api/v1/auth/me", "/api/v1/auth/sessions", "/api/v1/wallet" })
        {
            using (var control = await auth.GetAsync(path, Sign(genuine.Subject, genuine.GetClaim("sid").Value)))
            {
                control.StatusCode.ShouldBe(HttpStatusCode.OK, path);
            }

            foreach (var (subject, session) in new[] { ("admin", genuine.GetClaim("sid").Value), (genuine.Subject, "not-a-session"), ("", "") })
            {
                using var response = await auth.GetAsync(path, Sign(subject, session));
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{path} with sub '{subject}' and sid '{session}'");
                await ErrorAssert.SingleAsync(response, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
            }
        }

        app.Logs.Entries.ShouldNotContain(entry => entry.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_third_party_jwt_library_verifies_our_token_against_our_jwks()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var signedIn = await new AuthClient(app).SignInAsync("jose@example.com");
        var jwks = new Uri(app.Client().BaseAddress!, "/.well-known/jwks.json").ToString();

        var accepted = await RunJoseAsync(jwks, signedIn.AccessToken, "apptork-root", "apptork-root-api");
        accepted.GetProperty("ok").GetBoolean().ShouldBeTrue(accepted.ToString());
        accepted.GetProperty("payload").GetProperty("sub").GetString().ShouldBe(signedIn.User.Id.ToString());
        accepted.GetProperty("protectedHeader").GetProperty("alg").GetString().ShouldBe("ES256");
        accepted.GetProperty("protectedHeader").GetProperty("typ").GetString().ShouldBe("at+jwt");

        var wrongAudience = await RunJoseAsync(jwks, signedIn.AccessToken, "apptork-root", "someone-else");
        wrongAudience.GetProperty("ok").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task The_jwks_publishes_only_public_key_parts()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var jwks = await app.Client().GetStringAsync("/.well-known/jwks.json", Cancel);
        using var document = JsonDocument.Parse(jwks);
        var key = document.RootElement.GetProperty("keys").EnumerateArray().ShouldHaveSingleItem();
        key.GetProperty("kty").GetString().ShouldBe("EC");
        key.GetProperty("crv").GetString().ShouldBe("P-256");
        key.TryGetProperty("d", out _).ShouldBeFalse();
        jwks.ShouldNotContain("\"d\"");
    }

    [Fact]
    public async Task Each_jwk_carries_exactly_the_members_of_its_key_type_and_strict_parsers_accept_the_set()
    {
        using var rsa = RSA.Create(2048);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, new Dictionary<string, string?>
        {
            ["Auth:Jwt:SigningKeys:0"] = rsa.ExportRSAPrivateKeyPem(),
            ["Auth:Jwt:SigningKeys:1"] = TestSecrets.SigningKeyPem,
        });
        var signedIn = await new AuthClient(app).SignInAsync("strict-jwks@example.com");
        var jwks = await app.Client().GetStringAsync("/.well-known/jwks.json", Cancel);

        using var document = JsonDocument.Parse(jwks);
        var membersByType = document.RootElement.GetProperty("keys").EnumerateArray().ToDictionary(
            key => key.GetProperty("kty").GetString()!, key => key.EnumerateObject().Select(member => member.Name).Order().ToArray());
        membersByType["EC"].ShouldBe(["alg", "crv", "kid", "kty", "use", "x", "y"]);
        membersByType["RSA"].ShouldBe(["alg", "e", "kid", "kty", "n", "use"]);

        var signingKeys = new JsonWebKeySet(jwks).GetSigningKeys();
        signingKeys.Count.ShouldBe(2);
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(signedIn.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = "apptork-root",
            ValidAudience = "apptork-root-api",
            IssuerSigningKeys = signingKeys,
        });
        validated.IsValid.ShouldBeTrue(validated.Exception?.Message);

        var jwksUrl = new Uri(app.Client().BaseAddress!, "/.well-known/jwks.json").ToString();
        var accepted = await RunJoseAsync(jwksUrl, signedIn.AccessToken, "apptork-root", "apptork-root-api");
        accepted.GetProperty("ok").GetBoolean().ShouldBeTrue(accepted.ToString());
        accepted.GetProperty("protectedHeader").GetProperty("alg").GetString().ShouldBe("RS256");
    }

    [Fact]
    public async Task Keys_rotate_without_logging_anyone_out()
    {
        var databases = TestDatabases.For(postgres);
        var connectionString = await databases.CreatePostgresAsync();
        await using var before = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString);
        var signedIn = await new AuthClient(before).SignInAsync("rotate@example.com");

        var newKey = TestSecrets.NewSigningKeyPem();
        await using var after = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, new Dictionary<string, string?>
        {
            ["Auth:Jwt:SigningKeys:0"] = newKey,
            ["Auth:Jwt:SigningKeys:1"] = TestSecrets.SigningKeyPem,
        });
        var auth = new AuthClient(after);
        using (var oldTokenStillWorks = await auth.GetAsync("/api/v1/auth/me", signedIn.AccessToken))
        {
            oldTokenStillWorks.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var refreshed = await auth.RefreshAsync(signedIn.RefreshToken);
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var pair = (await refreshed.Content.ReadFromJsonAsync<AuthClient.SignedIn>(TestJson.Options, Cancel))!;
        var oldKid = new JsonWebToken(signedIn.AccessToken).Kid;
        new JsonWebToken(pair.AccessToken).Kid.ShouldNotBe(oldKid);
        using var document = JsonDocument.Parse(await after.Client().GetStringAsync("/.well-known/jwks.json", Cancel));
        document.RootElement.GetProperty("keys").GetArrayLength().ShouldBe(2);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Refresh_rotates_and_a_replay_inside_the_grace_window_gets_the_same_successor(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("rotation@example.com");

        var first = await PairAsync(await auth.RefreshAsync(signedIn.RefreshToken));
        first.RefreshToken.ShouldNotBe(signedIn.RefreshToken);
        clock.Advance(TimeSpan.FromSeconds(20));
        var replay = await PairAsync(await auth.RefreshAsync(signedIn.RefreshToken));
        replay.RefreshToken.ShouldBe(first.RefreshToken);

        var next = await PairAsync(await auth.RefreshAsync(first.RefreshToken));
        next.RefreshToken.ShouldNotBe(first.RefreshToken);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Reuse_after_the_grace_window_revokes_the_whole_session(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("stolen@example.com");
        var successor = await PairAsync(await auth.RefreshAsync(signedIn.RefreshToken));

        clock.Advance(TimeSpan.FromSeconds(46));
        using (var reused = await auth.RefreshAsync(signedIn.RefreshToken))
        {
            await ErrorAssert.SingleAsync(reused, HttpStatusCode.Unauthorized, "client_error", "token_reused", "refresh_token");
        }

        using var legitimate = await auth.RefreshAsync(successor.RefreshToken);
        await ErrorAssert.SingleAsync(legitimate, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Concurrent_refreshes_of_one_token_all_get_the_same_successor(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("foreground@example.com");

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => auth.RefreshAsync(signedIn.RefreshToken)));
        var pairs = await Task.WhenAll(responses.Select(PairAsync));
        pairs.Select(pair => pair.RefreshToken).Distinct().ShouldHaveSingleItem();
        (await PairAsync(await auth.RefreshAsync(pairs[0].RefreshToken))).RefreshToken.ShouldNotBe(pairs[0].RefreshToken);
    }

    [Fact]
    public async Task The_refresh_lifetime_counts_from_sign_in_not_from_the_last_rotation()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        var current = (await auth.SignInAsync("lifetime@example.com")).RefreshToken;
        for (var day = 0; day < 29; day++)
        {
            clock.Advance(TimeSpan.FromDays(1));
            current = (await PairAsync(await auth.RefreshAsync(current))).RefreshToken;
        }

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        using var ended = await auth.RefreshAsync(current);
        await ErrorAssert.SingleAsync(ended, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Logout_ends_the_session_and_a_ban_takes_effect_at_the_next_refresh(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var phone = await auth.SignInAsync("leaving@example.com", deviceId: "phone-1");
        var tablet = await auth.SignInAsync("leaving@example.com", deviceId: "tablet-1");

        using (var logout = await auth.Http.PostAsJsonAsync("/api/v1/auth/logout", new { refresh_token = phone.RefreshToken }, Cancel))
        {
            logout.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var afterLogout = await auth.RefreshAsync(phone.RefreshToken))
        {
            await ErrorAssert.SingleAsync(afterLogout, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
        }

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            await db.Users.Where(user => user.Id == tablet.User.Id)
                .ExecuteUpdateAsync(setters => setters.SetProperty(user => user.DisabledAt, DateTimeOffset.UtcNow), Cancel);
        }

        using var banned = await auth.RefreshAsync(tablet.RefreshToken);
        await ErrorAssert.SingleAsync(banned, HttpStatusCode.Forbidden, "client_error", "account_disabled");
        using var signInAgain = await auth.VerifyAsync((await auth.RequestCodeAsync("leaving@example.com")).OtpToken, await auth.LastCodeForAsync("leaving@example.com"));
        await ErrorAssert.SingleAsync(signInAgain, HttpStatusCode.Forbidden, "client_error", "account_disabled");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Sessions_are_one_per_device_and_can_be_ended_from_another_device(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var phone = await auth.SignInAsync("devices@example.com", deviceId: "phone-1");
        var laptop = await auth.SignInAsync("devices@example.com", deviceId: "laptop-1");
        var phoneAgain = await auth.SignInAsync("devices@example.com", deviceId: "phone-1");

        using (var replaced = await auth.RefreshAsync(phone.RefreshToken))
        {
            await ErrorAssert.SingleAsync(replaced, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
        }

        var sessions = await SessionsAsync(auth, laptop.AccessToken);
        sessions.Length.ShouldBe(2);
        sessions.Count(session => session.GetProperty("current").GetBoolean()).ShouldBe(1);
        var phoneSession = sessions.Single(session => !session.GetProperty("current").GetBoolean()).GetProperty("id").GetString();

        using (var revoke = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/auth/sessions/{phoneSession}", laptop.AccessToken))
        {
            revoke.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var ended = await auth.RefreshAsync(phoneAgain.RefreshToken))
        {
            await ErrorAssert.SingleAsync(ended, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
        }

        var stranger = await auth.SignInAsync("stranger@example.com");
        using var notYours = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/auth/sessions/{(await SessionsAsync(auth, laptop.AccessToken))[0].GetProperty("id").GetString()}", stranger.AccessToken);
        await ErrorAssert.SingleAsync(notYours, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    private static async Task<JsonElement[]> SessionsAsync(AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync("/api/v1/auth/sessions", accessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        document.RootElement.GetProperty("next_cursor").ValueKind.ShouldBe(JsonValueKind.Null);
        return document.RootElement.GetProperty("results").EnumerateArray().Select(element => element.Clone()).ToArray();
    }

    private static async Task<AuthClient.SignedIn> PairAsync(HttpResponseMessage response)
    {
        using (response)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
            return (await response.Content.ReadFromJsonAsync<AuthClient.SignedIn>(TestJson.Options, Cancel))!;
        }
    }

    /// <summary>Tokens an attacker could make from a real one: each must be refused.</summary>
    private static IEnumerable<(string Name, string Token)> Forgeries(string genuine)
    {
        var parts = genuine.Split('.');
        var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[1])).RootElement;
        string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        string Rewrite(Func<Dictionary<string, object?>, Dictionary<string, object?>> change) =>
            Encode(JsonSerializer.Serialize(change(JsonSerializer.Deserialize<Dictionary<string, object?>>(payload.GetRawText())!)));

        yield return ("tampered payload", $"{parts[0]}.{Rewrite(claims => { claims["role"] = "staff"; return claims; })}.{parts[2]}");
        yield return ("alg none", $"{Encode("""{"alg":"none","typ":"at+jwt"}""")}.{parts[1]}.");
        yield return ("bad signature", $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(64))}");

        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerKey = new ECDsaSecurityKey(stranger) { KeyId = new JsonWebToken(genuine).Kid };
        var handler = new JsonWebTokenHandler();
        string Sign(string issuer, string audience, string type, SecurityKey key, string algorithm) => handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            TokenType = type,
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = payload.GetProperty("sub").GetString()!, ["sid"] = payload.GetProperty("sid").GetString()! },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
        yield return ("another key, same kid", Sign("apptork-root", "apptork-root-api", "at+jwt", strangerKey, SecurityAlgorithms.EcdsaSha256));
        yield return ("HMAC", Sign("apptork-root", "apptork-root-api", "at+jwt", new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256));
        yield return ("garbage", "not.a.token");
    }

    private static async Task<JsonElement> RunJoseAsync(string jwksUrl, string token, string issuer, string audience)
    {
        var peers = Path.Combine(ServerHost.FindRepositoryRoot(), "tests", "peers");
        var startInfo = new ProcessStartInfo(ServerHost.RequireExecutable("node", "the jose peer (verify-jwt.mjs)")) { WorkingDirectory = peers, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "verify-jwt.mjs", jwksUrl, token, issuer, audience })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var output = await process.StandardOutput.ReadToEndAsync(Cancel);
        await process.WaitForExitAsync(Cancel);
        using var document = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        return document.RootElement.Clone();
    }
}
