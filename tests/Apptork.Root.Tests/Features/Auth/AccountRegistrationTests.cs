using System.Net;
using System.Net.Http.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth.Social;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

/// <summary>Every sign-up, by email code or by provider, creates its account in one transaction, or nothing at all.</summary>
public sealed class AccountRegistrationTests(PostgresServer postgres)
{
    private const string CodeAddress = "half.way@example.com";
    private const string GoogleAddress = "half.way@gmail.com";
    private const string GoogleSubject = "g-half-way";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Each database, failing at the registration record (half-way) and at the signup bonus (the last write).</summary>
    public static TheoryData<DatabaseShape, string> FailurePoints => new()
    {
        { DatabaseShape.Sqlite, "registrations" },
        { DatabaseShape.Sqlite, "ledger_entries" },
        { DatabaseShape.Postgres, "registrations" },
        { DatabaseShape.Postgres, "ledger_entries" },
    };

    [Theory, MemberData(nameof(FailurePoints))]
    public async Task A_sign_up_the_database_fails_half_way_leaves_no_user_no_registration_and_no_bonus_and_a_retry_gets_everything_once(
        DatabaseShape shape, string refusedTable)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await RootApp.StartAsync(
            TestDatabases.For(postgres), shape, new Dictionary<string, string?>(providers.Settings) { ["Wallet:SignupBonus"] = "25" });
        var auth = new AuthClient(app);
        await ExecuteAsync(app, RefuseInserts(shape, refusedTable));

        var requested = await auth.RequestCodeAsync(CodeAddress);
        using (var byCode = await auth.VerifyAsync(requested.OtpToken, await auth.LastCodeForAsync(CodeAddress), deviceId: "phone-1"))
        {
            byCode.StatusCode.ShouldBe(HttpStatusCode.InternalServerError, await byCode.Content.ReadAsStringAsync(Cancel));
        }

        using (var byGoogle = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken(GoogleSubject, GoogleAddress) }))
        {
            byGoogle.StatusCode.ShouldBe(HttpStatusCode.InternalServerError, await byGoogle.Content.ReadAsStringAsync(Cancel));
        }

        (await TracesAsync(app)).ShouldBe(new Traces(Users: 0, Identities: 0, Registrations: 0, Wallets: 0, Entries: 0), $"a failure at {refusedTable} rolls back every write");

        await ExecuteAsync(app, AllowInserts(shape));
        var byCodeAgain = await auth.SignInAsync(CodeAddress, deviceId: "phone-1");
        var byGoogleAgain = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken(GoogleSubject, GoogleAddress) }).SignedInAsync();
        byCodeAgain.IsNewUser.ShouldBeTrue();
        byGoogleAgain.IsNewUser.ShouldBeTrue();
        // Nothing of the failed attempts counts against the retry: no registration record was left to withhold the bonus.
        (await BalanceAsync(auth, byCodeAgain.AccessToken)).ShouldBe(25);
        (await BalanceAsync(auth, byGoogleAgain.AccessToken)).ShouldBe(25);
        (await TracesAsync(app)).ShouldBe(new Traces(Users: 2, Identities: 1, Registrations: 2, Wallets: 2, Entries: 2));
    }

    private sealed record Traces(int Users, int Identities, int Registrations, int Wallets, int Entries);

    private static async Task<Traces> TracesAsync(RootApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        return new Traces(
            await db.Users.CountAsync(user => user.Email == CodeAddress || user.Email == GoogleAddress, Cancel),
            await db.UserLogins.CountAsync(login => login.ProviderKey == GoogleSubject, Cancel),
            await db.Registrations.CountAsync(Cancel),
            await db.Wallets.CountAsync(wallet => wallet.UserId != SystemAccounts.Shortfall, Cancel),
            await db.LedgerEntries.CountAsync(entry => entry.Kind == LedgerEntryKind.SignupBonus, Cancel));
    }

    /// <summary>The database refuses new rows of the table, as a lost connection or a full disk would half-way through a sign-up.</summary>
    private static string RefuseInserts(DatabaseShape shape, string table) => shape == DatabaseShape.Sqlite
        ? $"CREATE TRIGGER refuse_inserts BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'write refused (simulated)'); END;"
        : $"""
           CREATE FUNCTION refuse_inserts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'write refused (simulated)'; END $$;
           CREATE TRIGGER refuse_inserts BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_inserts();
           """;

    private static string AllowInserts(DatabaseShape shape) => shape == DatabaseShape.Sqlite
        ? "DROP TRIGGER refuse_inserts;"
        : "DROP FUNCTION refuse_inserts() CASCADE;";

    private static async Task ExecuteAsync(RootApp app, string sql)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RootDbContext>().Database.ExecuteSqlRawAsync(sql, Cancel);
    }

    private static async Task<long> BalanceAsync(AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync("/api/v1/wallet", accessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<WalletBalance>(TestJson.Options, Cancel))!.Balance;
    }

    private sealed record WalletBalance(long Balance);
}
