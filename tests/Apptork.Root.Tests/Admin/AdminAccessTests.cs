using System.Net;
using System.Text.Json;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Security;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>Who may reach which page and handler of the control plane, and what every refusal leaves behind.</summary>
public sealed class AdminAccessTests(PostgresServer postgres)
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<RootApp> EmbeddedAppAsync() => RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin"));

    private static AdminClient Browser(RootApp app) => new(app.Client().BaseAddress!);

    /// <summary>One request of the table: a page read or a form posted to one handler.</summary>
    private sealed record Request(string Name, HttpMethod Method, string Path, Func<string, Dictionary<string, string>>? Form = null);

    [Fact(Timeout = 120_000)]
    public async Task Every_page_and_handler_answers_each_role_as_the_table_says()
    {
        await using var app = await EmbeddedAppAsync();
        var target = await StaffSeed.EnrolledAsync(app, "target@example.com", StaffRoles.Support);
        Request dashboard = new("dashboard", HttpMethod.Get, Admin);
        Request staffList = new("staff list", HttpMethod.Get, $"{Admin}/staff");
        Request invite = new("invite", HttpMethod.Post, $"{Admin}/staff?handler=Invite", role => new() { ["InviteEmail"] = $"invited-by-{role}@example.com", ["InviteRole"] = "support" });
        Request changeRole = new("change role", HttpMethod.Post, $"{Admin}/staff?handler=Role", _ => new() { ["Id"] = target.Id.ToString(), ["Role"] = "finance", ["ExpectedRole"] = "support" });
        Request disable = new("disable", HttpMethod.Post, $"{Admin}/staff?handler=Disable", _ => new() { ["Id"] = target.Id.ToString() });
        Request audit = new("audit log", HttpMethod.Get, $"{Admin}/audit");
        Request wallet = new("wallet", HttpMethod.Get, $"{Admin}/wallet");
        // A user no one has: the handler answers with its page, and nothing is posted.
        Request adjust = new("adjust", HttpMethod.Post, $"{Admin}/wallet?handler=Adjust", _ => new() { ["UserId"] = Guid.NewGuid().ToString(), ["ExpectedBalance"] = "0", ["Nonce"] = Guid.NewGuid().ToString(), ["Amount"] = "5", ["Reason"] = "table" });
        Request users = new("users", HttpMethod.Get, $"{Admin}/users?Query=someone%40example.com");
        // An account that does not exist: the handler runs past authorization only for the roles allowed, and changes nothing.
        Request ban = new("ban", HttpMethod.Post, $"{Admin}/users/{Guid.Empty}?handler=Ban", _ => new() { ["ExpectedBanned"] = "false", ["Reason"] = "table" });
        Request signOut = new("sign out", HttpMethod.Post, $"{Admin}/sign-out", _ => []);
        // Sign-out last: it ends the session the rows before it use.
        Request[] requests = [dashboard, staffList, invite, audit, changeRole, disable, wallet, adjust, users, ban, signOut];
        const HttpStatusCode Ok = HttpStatusCode.OK, Forbidden = HttpStatusCode.Forbidden, SignIn = HttpStatusCode.Redirect, None = HttpStatusCode.NotFound;
        var table = new Dictionary<string, HttpStatusCode[]>
        {
            //                 dashboard, staff list, invite, audit, change role, disable, wallet, adjust, users, ban, sign out
            ["anonymous"] = [SignIn, SignIn, SignIn, SignIn, SignIn, SignIn, SignIn, SignIn, SignIn, SignIn, SignIn],
            [StaffRoles.Support] = [Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok, None, HttpStatusCode.Redirect],
            [StaffRoles.Finance] = [Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Ok, Ok, Forbidden, Forbidden, HttpStatusCode.Redirect],
            [StaffRoles.Superuser] = [Ok, Ok, Ok, Ok, Ok, Ok, Ok, Ok, Ok, None, HttpStatusCode.Redirect],
        };

        var mismatches = new List<string>();
        foreach (var (role, expected) in table)
        {
            using var browser = Browser(app);
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
                    // A page every member can read gives the form token, as the page holding the form would.
                    await browser.GetAsync(Admin);
                }

                var (actual, _, response) = request.Method == HttpMethod.Get
                    ? await browser.GetAsync(request.Path)
                    : await browser.PostAsync(request.Path, request.Form!(role));
                var wentToSignIn = status != HttpStatusCode.Redirect || role != "anonymous"
                    || response.Headers.Location?.AbsolutePath() == $"{Admin}/sign-in";
                if (actual != status || !wentToSignIn)
                {
                    mismatches.Add($"{role} {request.Name}: {(int)actual} {response.Headers.Location}, expected {(int)status}");
                }
            }
        }

        mismatches.ShouldBeEmpty();
        // Only the superuser's requests changed anything.
        var staff = await StaffSeed.WithDbAsync(app, db => db.StaffMembers.AsNoTracking().ToListAsync(Cancel));
        staff.Select(member => member.Email).Where(email => email.StartsWith("invited-by-", StringComparison.Ordinal)).ShouldBe(["invited-by-superuser@example.com"]);
        var changed = staff.Single(member => member.Id == target.Id);
        (changed.Role, changed.DisabledAt is not null).ShouldBe(("finance", true));
        var actions = (await StaffSeed.AuditAsync(app)).Where(entry => entry.StaffEmail == "superuser@example.com").Select(entry => entry.Action).ToList();
        actions.ShouldBe([AdminActions.StaffEnrolled, AdminActions.SignInSucceeded, AdminActions.StaffInvited, AdminActions.StaffRoleChanged, AdminActions.StaffDisabled, AdminActions.SignedOut]);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_member_without_totp_is_sent_to_enrolment_and_gets_no_session()
    {
        await using var app = await EmbeddedAppAsync();
        var member = await StaffSeed.WithPasswordOnlyAsync(app, "halfway@example.com", StaffRoles.Support);
        using var browser = Browser(app);

        var response = await browser.TrySignInAsync(member.Email, StaffSeed.Password, "000000");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.OriginalString.ShouldStartWith($"{Admin}/enrol?token=");
        browser.Cookies.ShouldNotContainKey(AdminCookie.Name);
        var (status, body, _) = await browser.GetAsync(response.Headers.Location.OriginalString);
        status.ShouldBe(HttpStatusCode.OK);
        body.ShouldContain("name=\"Password\"");
        (await browser.GetAsync(Admin)).Status.ShouldBe(HttpStatusCode.Redirect);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_app_users_bearer_token_is_refused_everywhere_under_the_admin_path()
    {
        await using var app = await EmbeddedAppAsync();
        var appUser = await new AuthClient(app).SignInAsync("app.user@example.com");
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        using var signedIn = Browser(app);
        await signedIn.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        await signedIn.GetAsync(Admin);

        foreach (var path in new[] { Admin, $"{Admin}/staff", $"{Admin}/audit", $"{Admin}/sign-in", $"{Admin}/admin.css" })
        {
            using var anonymous = Browser(app);
            (await anonymous.GetAsync(path, appUser.AccessToken)).Status.ShouldBe(HttpStatusCode.Unauthorized, path);
            // Not even beside a valid staff cookie.
            (await signedIn.GetAsync(path, appUser.AccessToken)).Status.ShouldBe(HttpStatusCode.Unauthorized, path);
        }

        await signedIn.GetAsync(Admin);
        var invite = await signedIn.PostAsync($"{Admin}/staff?handler=Invite", new Dictionary<string, string> { ["InviteEmail"] = "sneaky@example.com", ["InviteRole"] = "superuser" }, bearer: appUser.AccessToken);
        invite.Status.ShouldBe(HttpStatusCode.Unauthorized);
        (await StaffSeed.WithDbAsync(app, db => db.StaffMembers.CountAsync(member => member.Email == "sneaky@example.com", Cancel))).ShouldBe(0);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_form_without_or_with_a_wrong_antiforgery_token_is_refused_and_changes_nothing()
    {
        await using var app = await EmbeddedAppAsync();
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        using var browser = Browser(app);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        await browser.GetAsync($"{Admin}/staff");
        var form = new Dictionary<string, string> { ["InviteEmail"] = "forged@example.com", ["InviteRole"] = "superuser" };

        (await browser.PostAsync($"{Admin}/staff?handler=Invite", form, withFormToken: false)).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await browser.PostAsync($"{Admin}/staff?handler=Invite", form, formToken: "CfDJ8-forged-token")).Status.ShouldBe(HttpStatusCode.BadRequest);
        // A real token of another session (another visitor's sign-in page) is no better.
        using var other = Browser(app);
        await other.GetAsync($"{Admin}/sign-in");
        (await browser.PostAsync($"{Admin}/staff?handler=Invite", form, formToken: other.FormToken)).Status.ShouldBe(HttpStatusCode.BadRequest);
        // Nor is the sign-in form itself without one.
        using var anonymous = Browser(app);
        (await anonymous.PostAsync($"{Admin}/sign-in", new Dictionary<string, string> { ["Email"] = superuser.Email, ["Password"] = superuser.Password, ["Code"] = superuser.NextCode() }, withFormToken: false))
            .Status.ShouldBe(HttpStatusCode.BadRequest);

        (await StaffSeed.WithDbAsync(app, db => db.StaffMembers.CountAsync(member => member.Email == "forged@example.com", Cancel))).ShouldBe(0);
        (await StaffSeed.AuditAsync(app)).ShouldNotContain(entry => entry.Action == AdminActions.StaffInvited);
        // With the page's own token the same form works.
        await browser.GetAsync($"{Admin}/staff");
        var accepted = await browser.PostAsync($"{Admin}/staff?handler=Invite", form);
        accepted.Status.ShouldBe(HttpStatusCode.OK);
        accepted.Body.ShouldContain("id=\"invite-link\"");
    }

    [Fact(Timeout = 120_000)]
    public async Task Repeated_failed_sign_ins_lock_the_account_and_each_is_audited()
    {
        await using var app = await EmbeddedAppAsync();
        var member = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = Browser(app);
        var unknown = await browser.TrySignInAsync("nobody@example.com", "whatever-password", "123456");
        var unknownBody = await unknown.Content.ReadAsStringAsync(Cancel);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var refused = await browser.TrySignInAsync(member.Email, "wrong password number " + attempt, member.NextCode());
            refused.StatusCode.ShouldBe(HttpStatusCode.OK);
            // The same words for an unknown account and a wrong password: nothing tells which addresses are staff.
            (await refused.Content.ReadAsStringAsync(Cancel)).ShouldContain("Sign-in failed: the email, password or code is not right");
        }

        unknownBody.ShouldContain("Sign-in failed: the email, password or code is not right");
        var locked = await browser.TrySignInAsync(member.Email, member.Password, member.NextCode());
        locked.StatusCode.ShouldBe(HttpStatusCode.OK);
        browser.Cookies.ShouldNotContainKey(AdminCookie.Name);

        var rows = await StaffSeed.AuditAsync(app);
        rows.Count(entry => entry.Action == AdminActions.SignInFailed && entry.StaffId == member.Id && entry.Reason == "wrong_password").ShouldBe(5);
        rows.Count(entry => entry.Action == AdminActions.SignInLockedOut && entry.StaffId == member.Id).ShouldBe(1);
        rows.ShouldContain(entry => entry.Action == AdminActions.SignInFailed && entry.StaffId == member.Id && entry.Reason == "locked_out");
        rows.ShouldContain(entry => entry.Action == AdminActions.SignInFailed && entry.StaffId == null && entry.StaffEmail == "nobody@example.com" && entry.Reason == "unknown_account");
        rows.Where(entry => entry.Action is AdminActions.SignInFailed or AdminActions.SignInLockedOut).ShouldAllBe(entry => entry.Ip == "127.0.0.1");
        rows.ShouldNotContain(entry => entry.Action == AdminActions.SignInSucceeded);
        var stored = await StaffSeed.WithDbAsync(app, db => db.StaffMembers.AsNoTracking().SingleAsync(staff => staff.Id == member.Id, Cancel));
        stored.LockoutEnd.ShouldNotBeNull().ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(14));
    }

    [Fact(Timeout = 120_000)]
    public async Task Every_admin_response_carries_the_security_headers_and_the_api_document_lists_no_admin_page()
    {
        await using var app = await EmbeddedAppAsync();
        var support = await StaffSeed.EnrolledAsync(app, "support@example.com", StaffRoles.Support);
        using var browser = Browser(app);
        var responses = new List<(string, HttpResponseMessage)>
        {
            ("redirect", (await browser.GetAsync(Admin)).Response),
            ("sign-in page", (await browser.GetAsync($"{Admin}/sign-in")).Response),
            ("style sheet", (await browser.GetAsync($"{Admin}/admin.css")).Response),
        };
        await browser.SignInAsync(support.Email, support.Password, support.NextCode());
        responses.Add(("dashboard", (await browser.GetAsync(Admin)).Response));
        responses.Add(("forbidden", (await browser.GetAsync($"{Admin}/staff")).Response));
        responses.Add(("not found", (await browser.GetAsync($"{Admin}/no-such-page")).Response));

        foreach (var (name, response) in responses)
        {
            response.Headers.GetValues("Content-Security-Policy").Single().ShouldBe(AdminRequestGuard.ContentSecurityPolicy, name);
            response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff", name);
            response.Headers.GetValues("Referrer-Policy").Single().ShouldBe("no-referrer", name);
            response.Headers.CacheControl!.NoStore.ShouldBeTrue(name);
        }

        browser.Cookies.ShouldContainKey(AdminCookie.Name);
        using var document = JsonDocument.Parse(await app.Client().GetStringAsync("/openapi/v1.json", Cancel));
        document.RootElement.GetProperty("paths").EnumerateObject().Select(path => path.Name).ShouldNotContain(path => path.StartsWith($"{Admin}", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_staff_session_from_one_api_process_is_accepted_by_another_on_the_same_database()
    {
        var databases = TestDatabases.For(postgres);
        var connectionString = await databases.CreateAsync(DatabaseShape.Postgres, "admin_two_hosts");
        await using var first = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString);
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString);
        var superuser = await StaffSeed.EnrolledAsync(first, "boss@example.com", StaffRoles.Superuser);
        using var onFirst = Browser(first);
        var signIn = await onFirst.TrySignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        // The production shape's cookie: HttpOnly, SameSite=Strict, Secure, and scoped to the admin path.
        var setCookie = signIn.Headers.GetValues("Set-Cookie").Single(header => header.StartsWith($"{AdminCookie.Name}=", StringComparison.Ordinal)).ToLowerInvariant();
        setCookie.ShouldContain("httponly");
        setCookie.ShouldContain("samesite=strict");
        setCookie.ShouldContain("secure");
        setCookie.ShouldContain("path=/admin");

        using var onSecond = Browser(second);
        foreach (var (name, value) in onFirst.Cookies)
        {
            onSecond.Cookies[name] = value;
        }

        var (status, body, _) = await onSecond.GetAsync($"{Admin}/staff");
        status.ShouldBe(HttpStatusCode.OK);
        body.ShouldContain("boss@example.com");
        // The form token the first process issued is accepted by the second as well.
        await onFirst.GetAsync($"{Admin}/staff");
        var invite = await onSecond.PostAsync($"{Admin}/staff?handler=Invite", new Dictionary<string, string> { ["InviteEmail"] = "second@example.com", ["InviteRole"] = "finance" }, formToken: onFirst.FormToken);
        invite.Status.ShouldBe(HttpStatusCode.OK);
        invite.Body.ShouldContain("id=\"invite-link\"");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_bad_admin_setting_stops_the_process_with_the_setting_named()
    {
        var result = await RootProcess.RunAsync(
            [],
            new Dictionary<string, string> { ["ConnectionStrings__Sqlite"] = TestDatabases.CreateSqlite("admin-settings"), ["Admin__Path"] = "/api/admin", ["Urls"] = RootProcess.FreeLoopbackUrl() },
            TimeSpan.FromSeconds(60),
            RootProcess.ScratchDirectory("apptork-admin-settings-"));

        result.ExitCode.ShouldBe(78, result.Output);
        result.Output.ShouldContain("Refusing to start: Admin__Path: must be a path such as /admin");
    }

    [Theory(Timeout = 120_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task The_audit_log_refuses_update_and_delete(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        var rows = await StaffSeed.AuditAsync(app);
        rows.Select(entry => entry.Action).ShouldBe([AdminActions.StaffCreated, AdminActions.StaffEnrolled]);

        var rewritten = await Should.ThrowAsync<Exception>(() => StaffSeed.WithDbAsync(app, db =>
            db.AdminAudit.ExecuteUpdateAsync(set => set.SetProperty(entry => entry.Action, "nothing happened"), Cancel)));
        rewritten.Message.ShouldContain("append-only");
        var deleted = await Should.ThrowAsync<Exception>(() => StaffSeed.WithDbAsync(app, db => db.AdminAudit.ExecuteDeleteAsync(Cancel)));
        deleted.Message.ShouldContain("append-only");
        (await StaffSeed.AuditAsync(app)).Select(entry => entry.Action).ShouldBe([AdminActions.StaffCreated, AdminActions.StaffEnrolled]);
    }
}

internal static class LocationPaths
{
    /// <summary>The path of a redirect's target, whether the server wrote it absolute or relative.</summary>
    public static string AbsolutePath(this Uri location) => location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString.Split('?')[0];
}
