using System.Net;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth.Social;

public sealed class LinkedIdentityTests(PostgresServer postgres)
{
    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_signed_in_user_links_a_provider_once_and_nobody_else_can_take_it(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, providers.Settings);
        var auth = new AuthClient(app);
        var ana = await auth.SignInAsync("ana@example.com");
        var googleOfAna = providers.GoogleIdToken("g-ana", "ana.personal@gmail.com");

        var linked = await auth.SocialAsync("google", new { id_token = googleOfAna }, ana.AccessToken).SignedInAsync();
        linked.IsNewUser.ShouldBeFalse();
        linked.User.Id.ShouldBe(ana.User.Id);
        linked.User.Email.ShouldBe("ana@example.com");
        var again = await auth.SocialAsync("google", new { id_token = googleOfAna }, linked.AccessToken).SignedInAsync();
        again.User.Id.ShouldBe(ana.User.Id);
        (await auth.IdentitiesAsync(again.AccessToken)).ShouldBe([("email", "ana@example.com"), ("google", "ana.personal@gmail.com")]);

        var bob = await auth.SignInAsync("bob@example.com");
        using (var taken = await auth.SocialAsync("google", new { id_token = googleOfAna }, bob.AccessToken))
        {
            await ErrorAssert.SingleAsync(taken, HttpStatusCode.Conflict, "client_error", "identity_in_use");
        }

        // Meant to link, but the access token is no good: refused, rather than signing the app into Ana's account.
        using (var forged = await auth.SocialAsync("google", new { id_token = googleOfAna }, bob.AccessToken[..^4] + "AAAA"))
        {
            await ErrorAssert.SingleAsync(forged, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
        }

        (await auth.IdentitiesAsync(bob.AccessToken)).ShouldBe([("email", "bob@example.com")]);
        (await auth.SocialAsync("google", new { id_token = googleOfAna }).SignedInAsync()).User.Id.ShouldBe(ana.User.Id);
        (await app.StoredIdentitiesAsync(ana.User.Id)).ShouldBe(["google:g-ana"]);
    }

    [Fact]
    public async Task Identities_are_removed_one_by_one_but_never_the_last_way_in()
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, providers.Settings);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("many.ways@example.com");
        var token = signedIn.AccessToken;
        await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-many", "many@gmail.com") }, token).SignedInAsync();
        var octo = new GitHubAccount(99, "many-ways", null, [new("many.ways@example.com", true, true)]);
        await auth.SocialAsync("github", new { code = providers.GitHubCode(octo) }, token).SignedInAsync();
        (await auth.IdentitiesAsync(token)).ShouldBe([("email", "many.ways@example.com"), ("github", "many.ways@example.com"), ("google", "many@gmail.com")]);

        foreach (var notLinked in new[] { "apple", "facebook" })
        {
            using var missing = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/auth/identities/{notLinked}", token);
            await ErrorAssert.SingleAsync(missing, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        foreach (var removable in new[] { "github", "email" })
        {
            using var removed = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/auth/identities/{removable}", token);
            removed.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await auth.IdentitiesAsync(token)).ShouldBe([("google", "many@gmail.com")]);
        using (var last = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/identities/google", token))
        {
            await ErrorAssert.SingleAsync(last, HttpStatusCode.Conflict, "client_error", "last_sign_in_method");
        }

        // Google still opens the account; the address, no longer a way in, now starts a new one.
        (await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-many", "many@gmail.com") }).SignedInAsync()).User.Id.ShouldBe(signedIn.User.Id);
        (await auth.SignInAsync("many.ways@example.com")).User.Id.ShouldNotBe(signedIn.User.Id);
    }
}
