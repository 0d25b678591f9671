using System.Diagnostics;
using System.Net;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

/// <summary>
/// Ending a session (deletion, a ban, signing out everywhere) stops its access tokens at once, on every process, not
/// when they expire: each step below was answered 200 for up to 15 minutes before.
/// </summary>
public sealed class RevocationTests(PostgresServer postgres, RedisServer redis, SmtpServer smtp)
{
    /// <summary>The bound the revocation must meet on another process, when the processes share Redis.</summary>
    private static readonly TimeSpan AcrossProcesses = TimeSpan.FromSeconds(1);

    /// <summary>A signed-in route that reads nothing but the token: only the token's validation can refuse it.</summary>
    private const string TokenOnlyRoute = "/api/v1/auth/sessions";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_deleted_account_s_access_token_can_no_longer_upload_or_read(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("gone.now@example.com");
        await ShouldBeAcceptedAsync(auth, signedIn.AccessToken);

        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", signedIn.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        await ShouldBeRefusedAsync(auth, signedIn.AccessToken);
        using var upload = await auth.SendAsync(HttpMethod.Post, "/api/v1/files/uploads", signedIn.AccessToken,
            new { filename = "after.png", content_type = "image/png", size = 10 });
        await ErrorAssert.SingleAsync(upload, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Signing_out_everywhere_ends_the_other_devices_then_this_one(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var phone = await auth.SignInAsync("many.devices@example.com", "phone-1");
        var tablet = await auth.SignInAsync("many.devices@example.com", "tablet-1");
        await ShouldBeAcceptedAsync(auth, tablet.AccessToken);

        using (var others = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/sessions?keep_current=true", phone.AccessToken))
        {
            others.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        await ShouldBeAcceptedAsync(auth, phone.AccessToken);
        await ShouldBeRefusedAsync(auth, tablet.AccessToken);
        using (var refresh = await auth.RefreshAsync(tablet.RefreshToken))
        {
            await ErrorAssert.SingleAsync(refresh, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
        }

        using (var all = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/sessions", phone.AccessToken))
        {
            all.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        await ShouldBeRefusedAsync(auth, phone.AccessToken);
        var again = await auth.SignInAsync("many.devices@example.com", "phone-1");
        await ShouldBeAcceptedAsync(auth, again.AccessToken);
    }

    [Fact]
    public async Task Another_process_refuses_the_token_within_a_second()
    {
        var shared = RedisSettings();
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, shared);
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, ConnectionString(first), shared);
        var onFirst = new AuthClient(first);
        var onSecond = new AuthClient(second);
        var signedIn = await onFirst.SignInAsync("two.processes@example.com");
        // Validated, and so cached, on the second process before the session ends.
        await ShouldBeAcceptedAsync(onSecond, signedIn.AccessToken);

        using (var all = await onFirst.SendAsync(HttpMethod.Delete, "/api/v1/auth/sessions", signedIn.AccessToken))
        {
            all.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var took = await TimeUntilRefusedAsync(onSecond, signedIn.AccessToken, TimeSpan.FromSeconds(10));
        took.ShouldBeLessThan(AcrossProcesses);
    }

    [Fact]
    public async Task A_process_that_hears_no_announcement_catches_up_from_the_database()
    {
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, RedisSettings());
        // No Redis at all: nothing tells this process, as when Redis is down; only its periodic look at the database.
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, ConnectionString(first), Unthrottled());
        var onFirst = new AuthClient(first);
        var onSecond = new AuthClient(second);
        var signedIn = await onFirst.SignInAsync("no.announcement@example.com");
        await ShouldBeAcceptedAsync(onSecond, signedIn.AccessToken);

        using (var deleted = await onFirst.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", signedIn.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var took = await TimeUntilRefusedAsync(onSecond, signedIn.AccessToken, TimeSpan.FromSeconds(30));
        took.ShouldBeLessThan(RevokedSessions.RefreshInterval + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_ban_from_the_command_line_stops_the_running_process_and_is_lifted_by_unban()
    {
        var shared = RedisSettings();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, shared);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("Banned.Person@example.com");
        await ShouldBeAcceptedAsync(auth, signedIn.AccessToken);
        // The running process's settings, as an operator's shell on the same host has them.
        var environment = RootProcess.ProductionEnvironment(ConnectionString(app), smtp, shared);

        var usage = await RootProcess.RunAsync(["ban"], environment, TimeSpan.FromSeconds(60));
        usage.ExitCode.ShouldBe(64, usage.Output);
        var unknown = await RootProcess.RunAsync(["ban", "nobody@example.com"], environment, TimeSpan.FromSeconds(60));
        unknown.ExitCode.ShouldBe(67, unknown.Output);

        var banned = await RootProcess.RunAsync(["ban", "banned.person@EXAMPLE.com"], environment, TimeSpan.FromSeconds(60));
        banned.ExitCode.ShouldBe(0, banned.Output);
        banned.Output.ShouldContain($"Banned user {signedIn.User.Id}: 1 session(s) ended");
        (await TimeUntilRefusedAsync(auth, signedIn.AccessToken, TimeSpan.FromSeconds(10))).ShouldBeLessThan(AcrossProcesses);
        using (var refresh = await auth.RefreshAsync(signedIn.RefreshToken))
        {
            await ErrorAssert.SingleAsync(refresh, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
        }

        var requested = await auth.RequestCodeAsync("banned.person@example.com");
        using (var signIn = await auth.VerifyAsync(requested.OtpToken, await auth.LastCodeForAsync("banned.person@example.com")))
        {
            await ErrorAssert.SingleAsync(signIn, HttpStatusCode.Forbidden, "client_error", "account_disabled");
        }

        var lifted = await RootProcess.RunAsync(["unban", signedIn.User.Id.ToString()], environment, TimeSpan.FromSeconds(60));
        lifted.ExitCode.ShouldBe(0, lifted.Output);
        var back = await auth.SignInAsync("banned.person@example.com");
        back.User.Id.ShouldBe(signedIn.User.Id);
        await ShouldBeAcceptedAsync(auth, back.AccessToken);
    }

    [Fact]
    public async Task Changing_the_role_ends_the_sessions_and_the_next_sign_in_carries_it()
    {
        var shared = RedisSettings();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, shared);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("future.operator@example.com");
        var environment = RootProcess.ProductionEnvironment(ConnectionString(app), smtp, shared);

        var wrong = await RootProcess.RunAsync(["set-role", "future.operator@example.com", "root"], environment, TimeSpan.FromSeconds(60));
        wrong.ExitCode.ShouldBe(64, wrong.Output);
        var promoted = await RootProcess.RunAsync(["set-role", "future.operator@example.com", "staff"], environment, TimeSpan.FromSeconds(60));
        promoted.ExitCode.ShouldBe(0, promoted.Output);
        promoted.Output.ShouldContain($"User {signedIn.User.Id} is now staff: 1 session(s) ended");

        (await TimeUntilRefusedAsync(auth, signedIn.AccessToken, TimeSpan.FromSeconds(10))).ShouldBeLessThan(AcrossProcesses);
        var again = await auth.SignInAsync("future.operator@example.com");
        again.User.Role.ShouldBe("staff");
        using var whoami = await auth.GetAsync("/api/v1/auth/whoami", again.AccessToken);
        (await whoami.Content.ReadAsStringAsync(Cancel)).ShouldContain("\"role\":\"staff\"");
    }

    private Dictionary<string, string?> RedisSettings() => new(Unthrottled())
    {
        ["ConnectionStrings:Redis"] = redis.ConnectionString,
        ["Redis:KeyPrefix"] = $"test-{Guid.NewGuid():N}:",
    };

    /// <summary>The tests ask every 20 ms until the token is refused: more than a user's rate allows.</summary>
    private static Dictionary<string, string?> Unthrottled() => new() { ["Throttling:Rates:user:free"] = "100000/minute" };

    private static string ConnectionString(RootApp app) => app.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;

    private static async Task ShouldBeAcceptedAsync(AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync(TokenOnlyRoute, accessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task ShouldBeRefusedAsync(AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync(TokenOnlyRoute, accessToken);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
    }

    /// <summary>How long the token stays accepted, asking every 20 ms; fails past <paramref name="patience"/>.</summary>
    private static async Task<TimeSpan> TimeUntilRefusedAsync(AuthClient auth, string accessToken, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < patience)
        {
            using var response = await auth.GetAsync(TokenOnlyRoute, accessToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return clock.Elapsed;
            }

            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            await Task.Delay(20, Cancel);
        }

        throw new ShouldAssertException($"The token was still accepted after {patience}.");
    }
}
