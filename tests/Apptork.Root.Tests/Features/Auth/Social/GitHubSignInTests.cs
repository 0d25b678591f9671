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
    public async Task A_code_whose_verified_primary_address_is_an_accounts_joins_that_account(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("dev@example.com");
        var octo = new GitHubAccount(4242, "octo", null, [new("old@example.com", false, true), new("dev@example.com", true, true)]);
        var code = providers.GitHubCode(octo);

        var byGitHub = await auth.SocialAsync("github", new { code }).SignedInAsync();
        byGitHub.IsNewUser.ShouldBeFalse();
        byGitHub.User.Id.ShouldBe(owner.User.Id);
        (await auth.IdentitiesAsync(owner.AccessToken)).ShouldBe([("email", "dev@example.com"), ("github", "dev@example.com")]);
        (await app.StoredIdentitiesAsync(owner.User.Id)).ShouldBe(["github:4242"]);

        // A code works once, as at GitHub.
        using var replayed = await auth.SocialAsync("github", new { code });
        await ErrorAssert.SingleAsync(replayed, HttpStatusCode.Unauthorized, "client_error", "invalid_id_token", "code");
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
        signedIn.User.Email.ShouldBe("mona@example.com");
    }
}
