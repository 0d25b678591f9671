using System.Net;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth.Social;

public sealed class GitHubSignInTests(PostgresServer postgres)
{
    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_verified_primary_address_does_not_sign_into_the_account_that_holds_it(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("dev@example.com");
        // GitHub verified the address once; the mailbox may have changed hands since (an expired domain, a recycled address).
        var taker = new GitHubAccount(4242, "taker", null, [new("dev@example.com", true, true)]);

        using (var refused = await auth.SocialAsync("github", new { code = providers.GitHubCode(taker) }))
        {
            await auth.LinkRequiredAsync(refused, "dev@example.com");
        }

        (await auth.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "dev@example.com")]);
        (await app.StoredIdentitiesAsync(owner.User.Id)).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_owner_links_github_with_the_mailed_code_in_two_calls_and_github_then_signs_in_directly(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("dev@example.com");
        var octo = new GitHubAccount(4242, "octo", null, [new("old@example.com", false, true), new("dev@example.com", true, true)]);
        var code = providers.GitHubCode(octo);

        AuthClient.OtpRequested challenge;
        using (var refused = await auth.SocialAsync("github", new { code }))
        {
            challenge = await auth.LinkRequiredAsync(refused, "dev@example.com");
        }

        await auth.WaitForMailAsync("dev@example.com", "GitHub");
        using (var verified = await auth.VerifyAsync(challenge.OtpToken, await auth.LastCodeForAsync("dev@example.com")))
        {
            var linked = await Task.FromResult(verified).SignedInAsync();
            linked.IsNewUser.ShouldBeFalse();
            linked.User.Id.ShouldBe(owner.User.Id);
        }

        (await auth.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "dev@example.com"), ("github", "dev@example.com")]);
        (await app.StoredIdentitiesAsync(owner.User.Id)).ShouldBe(["github:4242"]);

        // A code works once, as at GitHub.
        using (var replayed = await auth.SocialAsync("github", new { code }))
        {
            await ErrorAssert.SingleAsync(replayed, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "code");
        }

        // The identity is the account's now: GitHub opens it directly, with no more codes.
        var direct = await auth.SocialAsync("github", new { code = providers.GitHubCode(octo) }).SignedInAsync();
        direct.IsNewUser.ShouldBeFalse();
        direct.User.Id.ShouldBe(owner.User.Id);
    }

    [Fact]
    public async Task A_link_code_for_an_identity_that_meanwhile_opens_another_account_is_identity_in_use()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("dev@example.com");
        var octo = new GitHubAccount(4242, "octo", null, [new("dev@example.com", true, true)]);

        AuthClient.OtpRequested challenge;
        using (var refused = await auth.SocialAsync("github", new { code = providers.GitHubCode(octo) }))
        {
            challenge = await auth.LinkRequiredAsync(refused, "dev@example.com");
        }

        var other = await auth.SignInAsync("other@example.com");
        await auth.SocialAsync("github", new { code = providers.GitHubCode(octo) }, other.AccessToken).SignedInAsync();

        using (var verified = await auth.VerifyAsync(challenge.OtpToken, await auth.LastCodeForAsync("dev@example.com")))
        {
            await ErrorAssert.SingleAsync(verified, HttpStatusCode.Conflict, "client_error", "identity_in_use");
        }

        (await app.StoredIdentitiesAsync(owner.User.Id)).ShouldBeEmpty();
        (await app.StoredIdentitiesAsync(other.User.Id)).ShouldBe(["github:4242"]);
    }

    [Fact]
    public async Task Wrong_codes_on_a_link_challenge_spend_the_same_budgets_as_sign_in_codes()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        await auth.SignInAsync("dev@example.com");
        var taker = new GitHubAccount(4242, "taker", null, [new("dev@example.com", true, true)]);

        AuthClient.OtpRequested link;
        using (var refused = await auth.SocialAsync("github", new { code = providers.GitHubCode(taker) }))
        {
            link = await auth.LinkRequiredAsync(refused, "dev@example.com");
        }

        var wrong = await auth.WrongCodeForAsync("dev@example.com");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var response = await auth.VerifyAsync(link.OtpToken, wrong);
            await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "client_error", attempt < 5 ? "invalid_otp" : "otp_attempts_exceeded", "code");
        }

        // Five more on a sign-in code spend this client's 10 a day for the address: the link's five counted.
        var signIn = await auth.RequestCodeAsync("dev@example.com");
        var wrongSignIn = await auth.WrongCodeForAsync("dev@example.com");
        for (var attempt = 0; attempt < 5; attempt++)
        {
            (await auth.VerifyAsync(signIn.OtpToken, wrongSignIn)).Dispose();
        }

        var fresh = await auth.RequestCodeAsync("dev@example.com");
        using var locked = await auth.VerifyAsync(fresh.OtpToken, await auth.LastCodeForAsync("dev@example.com"));
        await ErrorAssert.SingleAsync(locked, HttpStatusCode.TooManyRequests, "client_error", "otp_locked", "code");
    }

    [Fact]
    public async Task An_unverified_primary_address_does_not_join_the_account_that_owns_it()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("victim@example.com");
        var squatter = new GitHubAccount(666, "squatter", "Not Victim", [new("victim@example.com", true, false)]);

        var signedIn = await auth.SocialAsync("github", new { code = providers.GitHubCode(squatter) }).SignedInAsync();
        signedIn.IsNewUser.ShouldBeTrue();
        signedIn.User.Id.ShouldNotBe(owner.User.Id);
        signedIn.User.Email.ShouldBeNull();
        signedIn.User.DisplayName.ShouldBe("Not Victim");
        (await auth.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "victim@example.com")]);
    }

    [Fact]
    public async Task An_access_token_is_accepted_only_when_github_says_it_was_issued_to_our_app()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var mona = new GitHubAccount(7, "mona", "Mona", [new("mona@example.com", true, true)]);

        using (var othersApp = await auth.SocialAsync("github", new { access_token = providers.GitHubAccessToken(mona, clientId: "Iv1.someone-elses-app") }))
        {
            await ErrorAssert.SingleAsync(othersApp, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "access_token");
        }

        using (var badCode = await auth.SocialAsync("github", new { code = "not-a-code" }))
        {
            await ErrorAssert.SingleAsync(badCode, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "code");
        }

        using (var neither = await auth.SocialAsync("github", new { }))
        {
            await ErrorAssert.SingleAsync(neither, HttpStatusCode.BadRequest, "validation_error", "required", "code");
        }

        using (var both = await auth.SocialAsync("github", new { code = "c", access_token = "t" }))
        {
            await ErrorAssert.SingleAsync(both, HttpStatusCode.BadRequest, "validation_error", "invalid", "access_token");
        }

        var signedIn = await auth.SocialAsync("github", new { access_token = providers.GitHubAccessToken(mona) }).SignedInAsync();
        signedIn.IsNewUser.ShouldBeTrue();
        // GitHub runs no mailboxes: a new account does not take the address GitHub verified.
        signedIn.User.Email.ShouldBeNull();
    }
}
