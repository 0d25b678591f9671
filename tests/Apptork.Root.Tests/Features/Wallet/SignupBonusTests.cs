using System.Net;
using System.Text.Json;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Wallet;

/// <summary>The signup bonus reaches the wallet through the ledger, once, and only where deduplication allows it.</summary>
public sealed class SignupBonusTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_new_account_gets_the_bonus_once_and_a_shared_device_or_a_returning_address_gets_none(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, new Dictionary<string, string?> { ["Wallet:SignupBonus"] = "25" });
        var auth = new AuthClient(app);

        var first = await auth.SignInAsync("bonus@example.com", deviceId: "tablet-1");
        (await BalanceAsync(auth, first.AccessToken)).ShouldBe(25);
        (await EntriesAsync(auth, first.AccessToken)).ShouldBe(["signup_bonus"]);
        var again = await auth.SignInAsync("bonus@example.com", deviceId: "tablet-1");
        (await BalanceAsync(auth, again.AccessToken)).ShouldBe(25, "signing in again grants nothing");

        var sibling = await auth.SignInAsync("sibling@example.com", deviceId: "tablet-1");
        (await BalanceAsync(auth, sibling.AccessToken)).ShouldBe(0, "the device already earned a bonus");

        // Signing in again on the tablet replaced its first session, and with it the first access token.
        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", again.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var returning = await auth.SignInAsync("bonus@example.com", deviceId: "phone-2");
        returning.IsNewUser.ShouldBeTrue();
        (await BalanceAsync(auth, returning.AccessToken)).ShouldBe(0, "a deleted account's address still counts");
    }

    [Fact]
    public async Task A_bonus_of_zero_turns_it_off()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?> { ["Wallet:SignupBonus"] = "0" });
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("nobonus@example.com");
        (await BalanceAsync(auth, signedIn.AccessToken)).ShouldBe(0);
        (await EntriesAsync(auth, signedIn.AccessToken)).ShouldBeEmpty();
    }

    private static async Task<long> BalanceAsync(AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync("/api/v1/wallet", accessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        return document.RootElement.GetProperty("balance").GetInt64();
    }

    private static async Task<string[]> EntriesAsync(AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync("/api/v1/wallet/transactions", accessToken);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        return document.RootElement.GetProperty("results").EnumerateArray().Select(entry => entry.GetProperty("kind").GetString()!).ToArray();
    }
}
