using System.Net;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Generations;
using Apptork.Root.Admin.Security;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// The generations screen (retry of a failed one, refund of a charge once), Hangfire's dashboard behind the staff
/// cookie, the dashboard's failure and health figures, and a staff session carried to another <c>api</c> process.
/// </summary>
public sealed class AdminGenerationsTests(PostgresServer postgres, SmtpServer smtp)
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 180_000)]
    public async Task A_failed_generation_is_retried_only_while_failed_runs_again_and_is_never_charged_or_refunded_twice()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = AiBehaviour.Fail;
        await using var app = await EmbeddedAppAsync("admin-retry", ai);
        var (user, client, books) = await CustomerAsync(app, "unlucky@example.com");
        var created = await client.CreateOkAsync("text", "will it work?");
        await client.WaitAsync(created.Id, "failed", Patience);
        var support = await StaffSeed.EnrolledAsync(app, "support@example.com", StaffRoles.Support);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(support.Email, support.Password, support.NextCode());

        // Failed ones by default, with the user, the error, and the job's own refund.
        var (listed, list, _) = await browser.GetAsync($"{Admin}/generations");
        listed.ShouldBe(HttpStatusCode.OK);
        list.ShouldContain(created.Id.ToString());
        list.ShouldContain("unlucky@example.com");
        list.ShouldContain("Refunded");
        (await browser.GetAsync($"{Admin}/generations?Status=succeeded")).Body.ShouldNotContain(created.Id.ToString());
        (await browser.GetAsync($"{Admin}/generations?Status=bogus")).Body.ShouldContain("Status: choose one of the listed statuses.");

        var form = await FormAsync(browser, created.Id);
        form.Body.ShouldContain("name=\"Version\"");
        form.Body.ShouldNotContain("handler=Refund");
        // A form older than the generation: refused, nothing changed.
        (await PostAsync(browser, created.Id, "Retry", form.Version - TimeSpan.TicksPerSecond, "provider is back")).ShouldContain("The generation changed since this page was shown");
        (await PostAsync(browser, created.Id, "Retry", form.Version, " ")).ShouldContain("Reason: say why; it is kept in the audit log.");
        (await GenerationAsync(app, created.Id)).Status.ShouldBe(GenerationStatus.Failed);
        (await RowsAsync(app, AdminActions.GenerationRetried)).ShouldBeEmpty();

        // Retried while the provider still fails: it runs again, fails again, and the refund is not booked twice.
        (await PostAsync(browser, created.Id, "Retry", form.Version, "provider is back")).ShouldContain("The generation is queued again.");
        (await PostAsync(browser, created.Id, "Retry", form.Version, "provider is back")).ShouldContain("Only a failed generation can be retried");
        await WaitForAsync(app, created.Id, generation => generation.Status == GenerationStatus.Failed && generation.Attempts == 1);
        ai.Calls.Count.ShouldBe(2);

        // Retried once the provider answers: it succeeds, on the house.
        ai.Behaviour = AiBehaviour.Answer;
        form = await FormAsync(browser, created.Id);
        (await PostAsync(browser, created.Id, "Retry", form.Version, "provider fixed")).ShouldContain("The generation is queued again.");
        (await client.WaitAsync(created.Id, "succeeded", Patience)).ResultText.ShouldBe("Local answer to: will it work?");
        ai.Calls.Count.ShouldBe(3);
        (await PostAsync(browser, created.Id, "Retry", form.Version, "again")).ShouldContain("Only a failed generation can be retried");
        (await books.EntriesAsync(user)).Select(entry => (entry.Amount, entry.Kind))
            .ShouldBe([(5L, LedgerEntryKind.Adjustment), (-1L, LedgerEntryKind.Generation), (1L, LedgerEntryKind.Refund)]);
        await books.ShouldAddUpAsync(user, 5);
        var rows = await RowsAsync(app, AdminActions.GenerationRetried);
        rows.Count.ShouldBe(2);
        rows.ShouldAllBe(row => row.StaffId == support.Id && row.Target == $"generation:{created.Id}");
        rows.Select(row => row.Reason).ShouldBe(["provider is back", "provider fixed"]);
    }

    [Theory(Timeout = 180_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task A_charge_is_refunded_once_and_a_second_refund_is_refused_as_already_refunded(DatabaseShape shape)
    {
        await using var ai = await LocalOpenAi.StartAsync();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, AppSettings(ai));
        var (user, client, books) = await CustomerAsync(app, "refund.me@example.com");
        var first = await client.CreateOkAsync("text", "first");
        await client.WaitAsync(first.Id, "succeeded", Patience);
        var second = await client.CreateOkAsync("text", "second");
        await client.WaitAsync(second.Id, "succeeded", Patience);
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        var form = await FormAsync(browser, first.Id);
        form.Body.ShouldContain("Not refunded");
        form.Body.ShouldNotContain("handler=Retry");
        (await PostAsync(browser, first.Id, "Refund", form.Version + TimeSpan.TicksPerSecond, "bad answer")).ShouldContain("The generation changed since this page was shown");
        (await books.EntriesAsync(user)).ShouldNotContain(entry => entry.Kind == LedgerEntryKind.Refund);

        (await PostAsync(browser, first.Id, "Refund", form.Version, "bad answer")).ShouldContain("The charge was refunded.");
        // The same form again (a double submit), and a fresh one: refused as already refunded.
        (await PostAsync(browser, first.Id, "Refund", form.Version, "bad answer")).ShouldContain("already refunded");
        var after = await FormAsync(browser, first.Id);
        after.Body.ShouldContain("<dd id=\"generation-refund\">Refunded</dd>");
        after.Body.ShouldNotContain("handler=Refund");
        (await PostAsync(browser, first.Id, "Refund", after.Version, "bad answer")).ShouldContain("already refunded");

        // Two refunds at once through the service: one books, the other finds it booked.
        var version = (await GenerationAsync(app, second.Id)).UpdatedAt.UtcTicks;
        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<GenerationOperations>()
                .RefundAsync(second.Id, version, "race", new AuditActor(finance.Id, finance.Email, null), Cancel);
        })));
        results.Select(result => result.Error).Order().ShouldBe([null, "ErrorGenerationAlreadyRefunded"]);

        var refunds = (await books.EntriesAsync(user)).Where(entry => entry.Kind == LedgerEntryKind.Refund).ToList();
        refunds.Select(entry => (entry.Amount, entry.Reference, entry.Operator)).ShouldBe(
            [(1L, $"generation:{first.Id}", finance.Email), (1L, $"generation:{second.Id}", finance.Email)]);
        await books.ShouldAddUpAsync(user, 5);
        (await RowsAsync(app, AdminActions.GenerationRefunded)).Select(row => (row.Target, row.Reason)).ShouldBe(
            [($"generation:{first.Id}", "bad answer"), ($"generation:{second.Id}", "race")]);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_generation_the_job_refunded_shows_as_refunded_and_is_not_refunded_again()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = AiBehaviour.Fail;
        await using var app = await EmbeddedAppAsync("admin-refunded", ai);
        var (user, client, books) = await CustomerAsync(app, "failed@example.com");
        var created = await client.CreateOkAsync("text", "no luck");
        await client.WaitAsync(created.Id, "failed", Patience);
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());

        var form = await FormAsync(browser, created.Id);
        form.Body.ShouldContain("<dd id=\"generation-refund\">Refunded</dd>");
        form.Body.ShouldContain("handler=Retry");
        form.Body.ShouldNotContain("handler=Refund");
        (await PostAsync(browser, created.Id, "Refund", form.Version, "twice?")).ShouldContain("already refunded");
        (await books.EntriesAsync(user)).Count(entry => entry.Kind == LedgerEntryKind.Refund).ShouldBe(1);
        (await RowsAsync(app, AdminActions.GenerationRefunded)).ShouldBeEmpty();
    }

    [Fact(Timeout = 180_000)]
    public async Task Every_generation_and_jobs_handler_answers_each_role_as_the_table_says()
    {
        await using var app = await EmbeddedAppAsync("admin-generations-access", ai: null);
        var nobody = Guid.NewGuid();
        // A generation no one has: a handler that passes authorization answers 404 and changes nothing.
        (string Name, HttpMethod Method, string Path)[] requests =
        [
            ("list", HttpMethod.Get, $"{Admin}/generations"),
            ("detail", HttpMethod.Get, $"{Admin}/generations/{nobody}"),
            ("retry", HttpMethod.Post, $"{Admin}/generations/{nobody}?handler=Retry"),
            ("refund", HttpMethod.Post, $"{Admin}/generations/{nobody}?handler=Refund"),
            ("jobs dashboard", HttpMethod.Get, $"{Admin}/jobs"),
            ("failed jobs", HttpMethod.Get, $"{Admin}/jobs/jobs/failed"),
        ];
        const HttpStatusCode Ok = HttpStatusCode.OK, Forbidden = HttpStatusCode.Forbidden, SignIn = HttpStatusCode.Redirect, None = HttpStatusCode.NotFound;
        var table = new Dictionary<string, HttpStatusCode[]>
        {
            //                      list, detail, retry, refund, jobs dashboard, failed jobs
            ["anonymous"] = [SignIn, SignIn, SignIn, SignIn, SignIn, SignIn],
            [StaffRoles.Support] = [Ok, None, None, Forbidden, Ok, Ok],
            [StaffRoles.Finance] = [Ok, None, Forbidden, None, Forbidden, Forbidden],
            [StaffRoles.Superuser] = [Ok, None, None, None, Ok, Ok],
        };

        var mismatches = new List<string>();
        foreach (var (role, expected) in table)
        {
            using var browser = new AdminClient(app.Client().BaseAddress!);
            if (role == "anonymous")
            {
                await browser.GetAsync($"{Admin}/sign-in");
            }
            else
            {
                var member = await StaffSeed.EnrolledAsync(app, $"{role}@example.com", role);
                await browser.SignInAsync(member.Email, member.Password, member.NextCode());
            }

            foreach (var (request, status) in requests.Zip(expected))
            {
                if (role != "anonymous")
                {
                    await browser.GetAsync(Admin);
                }

                var (actual, _, response) = request.Method == HttpMethod.Get
                    ? await browser.GetAsync(request.Path)
                    : await browser.PostAsync(request.Path, new Dictionary<string, string> { ["Version"] = "1", ["Reason"] = "table" });
                var wentToSignIn = status != SignIn || response.Headers.Location?.AbsolutePath() == $"{Admin}/sign-in";
                if (actual != status || !wentToSignIn)
                {
                    mismatches.Add($"{role} {request.Name}: {(int)actual} {response.Headers.Location}, expected {(int)status}");
                }
            }
        }

        mismatches.ShouldBeEmpty();
        (await StaffSeed.AuditAsync(app)).ShouldNotContain(row => row.Action.StartsWith("generation.", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task The_jobs_dashboard_is_read_only_for_support_full_for_a_superuser_and_refuses_a_form_without_its_token()
    {
        await using var app = await EmbeddedAppAsync("admin-jobs-dashboard", ai: null);
        var appUser = await new AuthClient(app).SignInAsync("app.user@example.com");
        var failedJob = FailedJob(app);
        var support = await StaffSeed.EnrolledAsync(app, "support@example.com", StaffRoles.Support);
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        var delete = $"{Admin}/jobs/jobs/failed/delete";

        using (var anonymous = new AdminClient(app.Client().BaseAddress!))
        {
            var (status, _, response) = await anonymous.GetAsync($"{Admin}/jobs/jobs/failed");
            status.ShouldBe(HttpStatusCode.Redirect);
            response.Headers.Location!.AbsolutePath().ShouldBe($"{Admin}/sign-in");
            (await anonymous.GetAsync($"{Admin}/jobs", appUser.AccessToken)).Status.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using (var browser = new AdminClient(app.Client().BaseAddress!))
        {
            await browser.SignInAsync(support.Email, support.Password, support.NextCode());
            var (status, page, _) = await browser.GetAsync($"{Admin}/jobs/jobs/failed");
            status.ShouldBe(HttpStatusCode.OK);
            page.ShouldContain(failedJob);
            page.ShouldNotContain("js-jobs-list-command");
            (await DashboardPostAsync(browser, delete, failedJob, DashboardToken(page))).ShouldNotBe(HttpStatusCode.NoContent);
            (await browser.GetAsync($"{Admin}/jobs", appUser.AccessToken)).Status.ShouldBe(HttpStatusCode.Unauthorized);
        }

        StateOf(app, failedJob).ShouldBe(FailedState.StateName);
        using (var browser = new AdminClient(app.Client().BaseAddress!))
        {
            await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
            var (status, page, response) = await browser.GetAsync($"{Admin}/jobs/jobs/failed");
            status.ShouldBe(HttpStatusCode.OK);
            page.ShouldContain("js-jobs-list-command");
            // The control plane's headers, the charts' inline styles aside.
            response.Headers.GetValues("Content-Security-Policy").Single().ShouldBe(AdminRequestGuard.JobsContentSecurityPolicy);
            response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
            response.Headers.CacheControl!.NoStore.ShouldBeTrue();
            (await DashboardPostAsync(browser, delete, failedJob, token: null)).ShouldBe(HttpStatusCode.Forbidden);
            (await DashboardPostAsync(browser, delete, failedJob, "CfDJ8-forged-token")).ShouldBe(HttpStatusCode.Forbidden);
            StateOf(app, failedJob).ShouldBe(FailedState.StateName);
            (await DashboardPostAsync(browser, delete, failedJob, DashboardToken(page))).ShouldBe(HttpStatusCode.NoContent);
        }

        StateOf(app, failedJob).ShouldBe(DeletedState.StateName);
    }

    [Fact(Timeout = 180_000)]
    public async Task The_dashboard_counts_failed_jobs_and_failed_generations_and_shows_the_health_checks()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = AiBehaviour.Fail;
        await using var app = await EmbeddedAppAsync("admin-dashboard-failures", ai);
        var (_, client, _) = await CustomerAsync(app, "dashboard@example.com");
        foreach (var prompt in new[] { "one", "two" })
        {
            await client.WaitAsync((await client.CreateOkAsync("text", prompt)).Id, "failed", Patience);
        }

        FailedJob(app);
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        var (status, body, _) = await browser.GetAsync(Admin);
        status.ShouldBe(HttpStatusCode.OK);
        Regex.Match(body, "id=\"failed-generations\"[^>]*>(\\d+)<").Groups[1].Value.ShouldBe("2");
        body.ShouldContain($"href=\"{Admin}/generations?Status=failed\"");
        Regex.Match(body, "id=\"failed-jobs\"[^>]*>(\\d+)<").Groups[1].Value.ShouldBe("1");
        // Finance does not open the jobs dashboard, so gets no link to it.
        body.ShouldNotContain($"href=\"{Admin}/jobs");
        body.ShouldContain("<td id=\"health-database\">healthy</td>");
        body.ShouldContain("<td id=\"health-worker\">healthy</td>");
        body.ShouldContain("Overall: ");
    }

    [Fact(Timeout = 240_000)]
    public async Task A_staff_session_signed_in_on_one_process_reads_and_acts_on_another_api_process()
    {
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "admin_two_processes");
        await using var first = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString);
        var superuser = await StaffSeed.EnrolledAsync(first, "boss@example.com", StaffRoles.Superuser);
        var url = RootProcess.FreeLoopbackUrl();
        var environment = RootProcess.ProductionEnvironment(
            first.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!, smtp, new Dictionary<string, string?> { ["Role"] = "api" });
        await using var second = RootProcess.Start(["--Urls", url], environment, RootProcess.ScratchDirectory("apptork-admin-api-"));
        using var onSecond = new AdminClient(new Uri(url));
        await WaitUntilServingAsync(onSecond, second);

        using var onFirst = new AdminClient(first.Client().BaseAddress!);
        await onFirst.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        foreach (var (name, value) in onFirst.Cookies)
        {
            onSecond.Cookies[name] = value;
        }

        var (status, body, _) = await onSecond.GetAsync($"{Admin}/generations");
        status.ShouldBe(HttpStatusCode.OK, second.Output);
        body.ShouldContain("boss@example.com");
        // A form the other process served is accepted here: the session and the form token both decrypt.
        await onFirst.GetAsync($"{Admin}/staff");
        var invite = await onSecond.PostAsync($"{Admin}/staff?handler=Invite", new Dictionary<string, string> { ["InviteEmail"] = "second@example.com", ["InviteRole"] = "support" }, formToken: onFirst.FormToken);
        invite.Status.ShouldBe(HttpStatusCode.OK, second.Output);
        invite.Body.ShouldContain("id=\"invite-link\"");
    }

    private static async Task WaitUntilServingAsync(AdminClient browser, RootProcess.Running process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            process.HasExited.ShouldBeFalse(process.Output);
            DateTime.UtcNow.ShouldBeLessThan(deadline, process.Output);
            try
            {
                if ((await browser.GetAsync($"{Admin}/sign-in")).Status == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200, Cancel);
        }
    }

    private static Dictionary<string, string?> AppSettings(LocalOpenAi? ai)
    {
        var settings = new Dictionary<string, string?>(ai?.Settings ?? new Dictionary<string, string?>())
        {
            ["Generation:MaxAttempts"] = "1",
            ["Generation:RetryDelaySeconds"] = "0",
            ["Ai:TimeoutSeconds"] = "5",
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-admin-generations-").FullName,
        };
        return settings;
    }

    private static Task<RootApp> EmbeddedAppAsync(string name, LocalOpenAi? ai) =>
        RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite(name), AppSettings(ai));

    /// <summary>A signed-in app user with 5 credits to spend on generations.</summary>
    private static async Task<(Guid User, GenerationClient Client, WalletBooks Books)> CustomerAsync(RootApp app, string email)
    {
        var signedIn = await new AuthClient(app).SignInAsync(email);
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 5, "grant", LedgerEntryKind.Adjustment);
        return (signedIn.User.Id, new GenerationClient(app, signedIn.AccessToken), books);
    }

    private sealed record GenerationForm(string Body, long Version);

    private static async Task<GenerationForm> FormAsync(AdminClient browser, Guid id)
    {
        var (status, body, _) = await browser.GetAsync($"{Admin}/generations/{id}");
        status.ShouldBe(HttpStatusCode.OK);
        var version = Regex.Match(body, "name=\"Version\" value=\"(\\d+)\"");
        return new GenerationForm(body, version.Success ? long.Parse(version.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
    }

    private static async Task<string> PostAsync(AdminClient browser, Guid id, string handler, long version, string reason)
    {
        var (status, body, _) = await browser.PostAsync($"{Admin}/generations/{id}?handler={handler}", new Dictionary<string, string>
        {
            ["Version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Reason"] = reason,
        });
        status.ShouldBe(HttpStatusCode.OK);
        return WebUtility.HtmlDecode(body);
    }

    private static Task<Apptork.Root.Features.Generation.Generation> GenerationAsync(RootApp app, Guid id) =>
        StaffSeed.WithDbAsync(app, db => db.Generations.AsNoTracking().SingleAsync(generation => generation.Id == id, Cancel));

    private static async Task WaitForAsync(RootApp app, Guid id, Func<Apptork.Root.Features.Generation.Generation, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!done(await GenerationAsync(app, id)))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"generation {id} never reached the state");
            await Task.Delay(100, Cancel);
        }
    }

    private static async Task<List<AdminAuditEntry>> RowsAsync(RootApp app, string action) =>
        (await StaffSeed.AuditAsync(app)).Where(row => row.Action == action).ToList();

    /// <summary>A job created failed, with no retry left, as one whose attempts ran out.</summary>
    private static string FailedJob(RootApp app) =>
        app.Services.GetRequiredService<IBackgroundJobClient>().Create(Job.FromExpression(() => FailingJob.Run()), new FailedState(new InvalidOperationException("boom")));

    private static string? StateOf(RootApp app, string jobId)
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetStateData(jobId)?.Name;
    }

    private static string? DashboardToken(string page) =>
        Regex.Match(page, "<meta name=\"csrf-token\" content=\"([^\"]+)\"") is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;

    /// <summary>A command of the dashboard as its own script posts it: the job ids, the antiforgery token in a header.</summary>
    private static async Task<HttpStatusCode> DashboardPostAsync(AdminClient browser, string path, string jobId, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent([new("jobs[]", jobId)]) };
        if (token is not null)
        {
            request.Headers.Add("RequestVerificationToken", token);
        }

        using var response = await browser.SendAsync(request);
        return response.StatusCode;
    }
}

/// <summary>A job that only ever fails, and is not retried.</summary>
public static class FailingJob
{
    [AutomaticRetry(Attempts = 0)]
    public static void Run() => throw new InvalidOperationException("always fails");
}
