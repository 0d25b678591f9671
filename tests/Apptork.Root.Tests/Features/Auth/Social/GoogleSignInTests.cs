using System.Net;
using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth.Social;

public sealed class GoogleSignInTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Fact]
    public async Task A_new_google_user_gets_an_account_with_the_gmail_address_and_comes_back_to_it()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);

        var first = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-100", "new.user@gmail.com", name: "New User") }).SignedInAsync();
        first.IsNewUser.ShouldBeTrue();
        first.TokenType.ShouldBe("Bearer");
        first.User.Email.ShouldBe("new.user@gmail.com");
        first.User.DisplayName.ShouldBe("New User");
        (await auth.IdentitiesAsync(first.AccessToken)).ShouldBe([("email", "new.user@gmail.com"), ("google", "new.user@gmail.com")]);

        // The identity, not the address, finds the account: Google addresses can change. (Google also signs as
        // "accounts.google.com", without the scheme, and for any of the app's client ids.)
        var again = await auth.SocialAsync("google", new
        {
            id_token = providers.GoogleIdToken("g-100", "renamed@gmail.com", change: token =>
            {
                token.Issuer = "accounts.google.com";
                token.Audience = LocalProviders.GoogleWebClientId;
            }),
        }).SignedInAsync();
        again.IsNewUser.ShouldBeFalse();
        again.User.Id.ShouldBe(first.User.Id);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Done_when_an_email_code_user_refreshes_then_signs_in_with_google_on_the_same_address_and_lands_on_the_same_account(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);

        var byCode = await auth.SignInAsync("ana.lima@gmail.com");
        byCode.IsNewUser.ShouldBeTrue();
        var refreshed = await auth.RefreshAsync(byCode.RefreshToken).SignedInAsync();

        var byGoogle = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-ana", "ana.lima@gmail.com") }).SignedInAsync();
        byGoogle.IsNewUser.ShouldBeFalse();
        byGoogle.User.Id.ShouldBe(byCode.User.Id);

        (await auth.IdentitiesAsync(refreshed.AccessToken)).ShouldBe([("email", "ana.lima@gmail.com"), ("google", "ana.lima@gmail.com")]);
        (await app.InDatabaseAsync(db => db.Users.CountAsync(user => user.Id != SystemAccounts.Shortfall, Cancel))).ShouldBe(1);
        (await app.StoredIdentitiesAsync(byCode.User.Id)).ShouldBe(["google:g-ana"]);
    }

    [Fact]
    public async Task Concurrent_first_sign_ins_with_one_identity_make_one_account()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, providers.Settings);
        var auth = new AuthClient(app);
        var idToken = providers.GoogleIdToken("g-race", "race@gmail.com");

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => auth.SocialAsync("google", new { id_token = idToken }).SignedInAsync()));
        results.Select(result => result.User.Id).Distinct().ShouldHaveSingleItem();
        results.Count(result => result.IsNewUser).ShouldBe(1);
        (await app.InDatabaseAsync(db => db.Users.CountAsync(user => user.Id != SystemAccounts.Shortfall, Cancel))).ShouldBe(1);
        (await app.StoredIdentitiesAsync(results[0].User.Id)).ShouldBe(["google:g-race"]);
    }

    [Fact]
    public async Task Forged_foreign_stale_or_unsigned_id_tokens_are_invalid_id_token_without_hammering_the_jwks()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var genuine = providers.GoogleIdToken("g-200", "victim@gmail.com");

        foreach (var (name, forged) in Forgeries(providers, genuine))
        {
            using var response = await auth.SocialAsync("google", new { id_token = forged });
            (await ErrorAssert.SingleAsync(response, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "id_token"))
                .Detail.ShouldBe("The sign-in token from the provider could not be verified.", name);
        }

        // Made-up key ids did not make the application fetch Google's keys again and again.
        providers.Google.Fetches.ShouldBe(1);
        (await auth.SocialAsync("google", new { id_token = genuine }).SignedInAsync()).User.Email.ShouldBe("victim@gmail.com");
        (await app.InDatabaseAsync(db => db.Users.CountAsync(user => user.Id != SystemAccounts.Shortfall, Cancel))).ShouldBe(1);
    }

    [Fact]
    public async Task A_rotated_key_is_fetched_on_its_first_use_at_most_once_per_cooldown_and_es256_is_accepted()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings,
            new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var auth = new AuthClient(app);
        await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-300", "rotating@gmail.com", now: clock.GetUtcNow()) }).SignedInAsync();

        providers.Google.Rotate(elliptic: true);
        var withNewKey = providers.GoogleIdToken("g-300", "rotating@gmail.com", now: clock.GetUtcNow());
        using (var tooSoon = await auth.SocialAsync("google", new { id_token = withNewKey }))
        {
            await ErrorAssert.SingleAsync(tooSoon, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "id_token");
        }

        providers.Google.Fetches.ShouldBe(1);
        clock.Advance(TimeSpan.FromSeconds(31));
        (await auth.SocialAsync("google", new { id_token = withNewKey }).SignedInAsync()).IsNewUser.ShouldBeFalse();
        providers.Google.Fetches.ShouldBe(2);

        // An ID token is checked on the same clock: 31 s past its expiry (beyond the 30 s skew) it is refused.
        clock.Advance(TimeSpan.FromHours(1));
        using var expired = await auth.SocialAsync("google", new { id_token = withNewKey });
        await ErrorAssert.SingleAsync(expired, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "id_token");
    }

    [Fact]
    public async Task An_unverified_google_address_never_joins_the_account_that_owns_it()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("bea@gmail.com");

        var impostor = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-impostor", "bea@gmail.com", emailVerified: false) }).SignedInAsync();
        impostor.IsNewUser.ShouldBeTrue();
        impostor.User.Id.ShouldNotBe(owner.User.Id);
        impostor.User.Email.ShouldBeNull();
        (await auth.IdentitiesAsync(impostor.AccessToken)).ShouldBe([("google", null)]);
        (await auth.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "bea@gmail.com")]);

        // The owner still gets into their own account by code, not into the impostor's.
        (await auth.SignInAsync("bea@gmail.com")).User.Id.ShouldBe(owner.User.Id);
    }

    [Fact]
    public async Task A_verified_address_google_is_not_the_authority_for_needs_an_email_code_before_linking()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var spanish = new AuthClient(app, "es");
        var owner = await spanish.SignInAsync("carla@outlook.com");
        var outlookAtGoogle = providers.GoogleIdToken("g-carla", "carla@outlook.com");

        using (var refused = await spanish.SocialAsync("google", new { id_token = outlookAtGoogle }))
        {
            refused.Content.Headers.ContentLanguage.ShouldBe(["es"]);
            await spanish.LinkRequiredAsync(refused, "carla@outlook.com");
        }

        (await spanish.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "carla@outlook.com")]);

        // Signed in by code already, Carla links Google directly, and from then on Google opens her account.
        var linked = await spanish.SocialAsync("google", new { id_token = outlookAtGoogle }, owner.AccessToken).SignedInAsync();
        linked.User.Id.ShouldBe(owner.User.Id);
        (await spanish.SocialAsync("google", new { id_token = outlookAtGoogle }).SignedInAsync()).User.Id.ShouldBe(owner.User.Id);

        // A Google Workspace account (hd claim): Google runs that domain's mail, so the address links at once.
        var employee = await spanish.SignInAsync("dev@apptork.example");
        var workspace = await spanish.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-dev", "dev@apptork.example", hostedDomain: "apptork.example") }).SignedInAsync();
        workspace.IsNewUser.ShouldBeFalse();
        workspace.User.Id.ShouldBe(employee.User.Id);
    }

    [Fact]
    public async Task A_provider_that_does_not_answer_is_service_unavailable_not_a_bad_credential()
    {
        await using var providers = await LocalProviders.StartAsync();
        var nobody = $"http://127.0.0.1:{ServerHost.FreeLoopbackPort()}/";
        var settings = new Dictionary<string, string?>(providers.Settings)
        {
            ["Auth:Google:JwksUrl"] = nobody,
            ["Auth:Apple:TokenUrl"] = nobody,
            ["Auth:GitHub:TokenUrl"] = nobody,
        };
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, settings);
        var auth = new AuthClient(app);
        var attempts = new (string Provider, object Body)[]
        {
            ("google", new { id_token = providers.GoogleIdToken("g-400", "down@gmail.com") }),
            ("apple", new { id_token = providers.AppleIdToken("001234.down", "down@icloud.com"), authorization_code = providers.AppleAuthorizationCode("001234.down", "down@icloud.com") }),
            ("github", new { code = providers.GitHubCode(new GitHubAccount(400, "down", null, [])) }),
        };

        foreach (var (provider, body) in attempts)
        {
            using var response = await auth.SocialAsync(provider, body);
            await ErrorAssert.SingleAsync(response, HttpStatusCode.ServiceUnavailable, "server_error", "service_unavailable");
        }

        (await app.InDatabaseAsync(db => db.Users.CountAsync(user => user.Id != SystemAccounts.Shortfall, Cancel))).ShouldBe(0);
    }

    [Fact]
    public async Task A_provider_without_settings_is_provider_not_configured_before_the_body_is_looked_at()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app);
        foreach (var provider in new[] { "google", "apple", "github" })
        {
            using var response = await auth.SocialAsync(provider, new { id_token = "" });
            await ErrorAssert.SingleAsync(response, HttpStatusCode.NotFound, "client_error", "provider_not_configured");
        }
    }

    /// <summary>Tokens an attacker could make or replay: each must be refused.</summary>
    private static IEnumerable<(string Name, string Token)> Forgeries(LocalProviders providers, string genuine)
    {
        var parts = genuine.Split('.');
        var kid = new JsonWebToken(genuine).Kid;
        string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));

        yield return ("another app's audience", providers.GoogleIdToken("g-200", "victim@gmail.com", change: token => token.Audience = "someone-else.apps.googleusercontent.com"));
        yield return ("another issuer", providers.GoogleIdToken("g-200", "victim@gmail.com", change: token => token.Issuer = "https://accounts.google.com.evil.example"));
        yield return ("expired a minute ago, beyond the 30 s skew", providers.GoogleIdToken("g-200", "victim@gmail.com", now: DateTimeOffset.UtcNow.AddMinutes(-61)));
        yield return ("tampered payload", $"{parts[0]}.{Encode("""{"iss":"https://accounts.google.com","aud":"1234-ios.apps.googleusercontent.com","sub":"g-other","email":"victim@gmail.com","email_verified":true,"exp":9999999999}""")}.{parts[2]}");
        yield return ("bad signature", $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(256))}");
        yield return ("alg none", $"{Encode($$"""{"alg":"none","kid":"{{kid}}","typ":"JWT"}""")}.{parts[1]}.");

        // The classic confusion: HS256 keyed with the public key, which anyone can download from the JWKS.
        var publicJwk = LocalProviders.ProviderKeys.PublicJwk(providers.Google.Current);
        var publicKeyBytes = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(publicJwk));
        yield return ("HMAC keyed with the public key", providers.GoogleIdToken("g-200", "victim@gmail.com",
            change: token => token.SigningCredentials = new(new SymmetricSecurityKey(publicKeyBytes) { KeyId = kid }, SecurityAlgorithms.HmacSha256)));
        yield return ("HMAC keyed with the modulus", providers.GoogleIdToken("g-200", "victim@gmail.com",
            change: token => token.SigningCredentials = new(new SymmetricSecurityKey(Base64UrlEncoder.DecodeBytes(publicJwk["n"])) { KeyId = kid }, SecurityAlgorithms.HmacSha256)));

        var stranger = LocalProviders.ProviderKeys.NewRsaKey();
        yield return ("a key Google never published", providers.GoogleIdToken("g-200", "victim@gmail.com",
            change: token => token.SigningCredentials = new(stranger, SecurityAlgorithms.RsaSha256)));
        var impersonating = LocalProviders.ProviderKeys.NewRsaKey();
        impersonating.KeyId = kid;
        yield return ("another key under Google's key id", providers.GoogleIdToken("g-200", "victim@gmail.com",
            change: token => token.SigningCredentials = new(impersonating, SecurityAlgorithms.RsaSha256)));
        yield return ("no key id", $"{Encode("""{"alg":"RS256","typ":"JWT"}""")}.{parts[1]}.{parts[2]}");
        yield return ("not a JWT", "not-a-token");
    }
}
