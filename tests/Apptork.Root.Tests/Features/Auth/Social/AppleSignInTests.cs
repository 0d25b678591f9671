using System.Net;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth.Social;

public sealed class AppleSignInTests(PostgresServer postgres)
{
    private const string RelayAddress = "x7f3k2pq9d@privaterelay.appleid.com";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Apple_sign_in_keeps_the_refresh_token_encrypted_and_revokes_it_at_apple_when_the_account_is_deleted(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);

        var signedIn = await auth.SocialAsync("apple", new
        {
            // Apple's "email_verified" is the string "true"; its relay address is one Apple delivers, so it counts as proven.
            id_token = providers.AppleIdToken("001234.apple-zoe", RelayAddress, emailVerified: "true"),
            authorization_code = providers.AppleAuthorizationCode("001234.apple-zoe", RelayAddress),
            first_name = "Zoé",
            last_name = "Martin",
        }).SignedInAsync();
        signedIn.IsNewUser.ShouldBeTrue();
        signedIn.User.Email.ShouldBe(RelayAddress);
        signedIn.User.DisplayName.ShouldBe("Zoé Martin");
        (await auth.IdentitiesAsync(signedIn.AccessToken)).ShouldBe([("email", RelayAddress), ("apple", RelayAddress)]);

        var refreshToken = providers.AppleRefreshTokensIssued.ShouldHaveSingleItem();
        var stored = await app.InDatabaseAsync(db => db.UserTokens.Where(token => token.UserId == signedIn.User.Id).ToListAsync(Cancel));
        var kept = stored.ShouldHaveSingleItem();
        (kept.LoginProvider, kept.Name).ShouldBe(("apple", "refresh_token"));
        kept.Value.ShouldNotBeNullOrEmpty();
        kept.Value.ShouldNotContain(refreshToken);
        kept.Value.ShouldNotContain(refreshToken[2..14]);

        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", signedIn.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        providers.AppleRevocations.ShouldBe([(LocalProviders.AppleClientId, refreshToken)]);
        (await app.InDatabaseAsync(db => db.UserTokens.CountAsync(Cancel))).ShouldBe(0);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_verified_address_apple_does_not_run_does_not_sign_into_the_account_that_holds_it(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("kim@example.com");

        using (var refused = await auth.SocialAsync("apple", new { id_token = providers.AppleIdToken("001234.apple-taker", "kim@example.com") }))
        {
            await auth.LinkRequiredAsync(refused, "kim@example.com");
        }

        (await auth.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "kim@example.com")]);
        (await app.StoredIdentitiesAsync(owner.User.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Addresses_apple_runs_still_join_the_account_that_holds_them_directly()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var relayOwner = await auth.SignInAsync(RelayAddress);
        var icloudOwner = await auth.SignInAsync("lou@icloud.com");

        var byRelay = await auth.SocialAsync("apple", new { id_token = providers.AppleIdToken("001234.apple-relay", RelayAddress) }).SignedInAsync();
        byRelay.IsNewUser.ShouldBeFalse();
        byRelay.User.Id.ShouldBe(relayOwner.User.Id);
        var byICloud = await auth.SocialAsync("apple", new { id_token = providers.AppleIdToken("001234.apple-lou", "lou@icloud.com") }).SignedInAsync();
        byICloud.IsNewUser.ShouldBeFalse();
        byICloud.User.Id.ShouldBe(icloudOwner.User.Id);
    }

    [Fact]
    public async Task A_code_apple_refuses_or_one_issued_to_someone_else_is_invalid_id_token_at_authorization_code()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var idToken = providers.AppleIdToken("001234.apple-sam", "sam@icloud.com");

        using (var unknown = await auth.SocialAsync("apple", new { id_token = idToken, authorization_code = "c-never-issued" }))
        {
            await ErrorAssert.SingleAsync(unknown, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "authorization_code");
        }

        // A genuine code, but of another Apple user: keeping it would tie someone else's Apple grant to this account.
        using (var someoneElses = await auth.SocialAsync("apple", new { id_token = idToken, authorization_code = providers.AppleAuthorizationCode("001234.apple-eve", "eve@icloud.com") }))
        {
            await ErrorAssert.SingleAsync(someoneElses, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "authorization_code");
        }

        using (var wrongAudience = await auth.SocialAsync("apple", new { id_token = providers.GoogleIdToken("g-sam", "sam@gmail.com") }))
        {
            await ErrorAssert.SingleAsync(wrongAudience, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "id_token");
        }

        (await app.InDatabaseAsync(db => db.Users.CountAsync(user => user.Id != SystemAccounts.Shortfall, Cancel))).ShouldBe(0);
        var withoutCode = await auth.SocialAsync("apple", new { id_token = idToken }).SignedInAsync();
        withoutCode.User.Email.ShouldBe("sam@icloud.com");
    }

    [Fact]
    public async Task Apple_being_down_does_not_stop_a_deletion_and_the_failure_is_logged()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var signedIn = await auth.SocialAsync("apple", new
        {
            id_token = providers.AppleIdToken("001234.apple-leo", RelayAddress),
            authorization_code = providers.AppleAuthorizationCode("001234.apple-leo", RelayAddress),
        }).SignedInAsync();

        providers.AppleRevokeIsDown = true;
        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", signedIn.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        providers.AppleRevocations.ShouldBeEmpty();
        app.Logs.Entries.ShouldContain(entry => entry.Level == LogLevel.Error && entry.Message.Contains("Could not revoke an Apple refresh token", StringComparison.Ordinal));
        (await app.InDatabaseAsync(db => db.Users.SingleAsync(user => user.Id != SystemAccounts.Shortfall, Cancel))).DeletedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Unlinking_apple_revokes_its_grant_and_leaves_the_email_way_in()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var signedIn = await auth.SocialAsync("apple", new
        {
            id_token = providers.AppleIdToken("001234.apple-ida", "ida@icloud.com"),
            authorization_code = providers.AppleAuthorizationCode("001234.apple-ida", "ida@icloud.com"),
        }).SignedInAsync();

        using (var unlinked = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/identities/apple", signedIn.AccessToken))
        {
            unlinked.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        providers.AppleRevocations.ShouldBe([(LocalProviders.AppleClientId, providers.AppleRefreshTokensIssued.Single())]);
        (await auth.IdentitiesAsync(signedIn.AccessToken)).ShouldBe([("email", "ida@icloud.com")]);
        (await app.InDatabaseAsync(db => db.UserTokens.CountAsync(Cancel))).ShouldBe(0);
        (await auth.SignInAsync("ida@icloud.com")).User.Id.ShouldBe(signedIn.User.Id);
    }
}
