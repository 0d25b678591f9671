using System.Net;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Security;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>Enrolment's rules, second factors used once, and a superuser's changes reaching a member's open session.</summary>
public sealed partial class AdminStaffTests
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<RootApp> EmbeddedAppAsync() => RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-staff"));

    [Fact(Timeout = 120_000)]
    public async Task Enrolment_refuses_a_weak_password_with_the_field_named_and_keeps_the_link_usable()
    {
        await using var app = await EmbeddedAppAsync();
        var token = await StaffSeed.InvitedAsync(app, "newcomer@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        var link = $"{Admin}/enrol?token={Uri.EscapeDataString(token)}";
        (await browser.GetAsync(link)).Body.ShouldContain("newcomer@example.com");

        async Task<string> SetPasswordAsync(string password, string confirmation) =>
            (await browser.PostAsync($"{Admin}/enrol?handler=Password", new Dictionary<string, string> { ["Token"] = token, ["Password"] = password, ["PasswordConfirmation"] = confirmation })).Body;

        (await SetPasswordAsync("too short", "too short")).ShouldContain("Password: use at least 12 characters.");
        (await SetPasswordAsync("newcomer@example.com", "newcomer@example.com")).ShouldContain("Password: it must not contain your email address, nor the part before its @.");
        (await SetPasswordAsync("Newcomer-is-my-password", "Newcomer-is-my-password")).ShouldContain("Password: it must not contain your email address, nor the part before its @.");
        (await SetPasswordAsync("a fine long passphrase", "a different passphrase")).ShouldContain("Repeat the password: the two passwords differ.");
        (await StaffSeed.WithDbAsync(app, db => db.StaffMembers.SingleAsync(member => member.Email == "newcomer@example.com", Cancel))).PasswordHash.ShouldBeNull();

        var scan = await SetPasswordAsync("a fine long passphrase", "a fine long passphrase");
        scan.ShouldContain("id=\"totp-secret\"");
        var wrongCode = await browser.PostAsync($"{Admin}/enrol?handler=Code", new Dictionary<string, string> { ["Token"] = token, ["Code"] = "000000" });
        wrongCode.Body.ShouldContain("Authenticator code: that code is not right.");
        (await StaffSeed.AuditAsync(app)).ShouldNotContain(entry => entry.Action == AdminActions.StaffEnrolled);
        (await browser.GetAsync("/admin/enrol?token=not-a-token")).Body.ShouldContain("This enrolment link is not valid");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_code_signs_in_once_and_each_recovery_code_once()
    {
        await using var app = await EmbeddedAppAsync();
        var member = await StaffSeed.EnrolledAsync(app, "support@example.com", StaffRoles.Support);
        var code = member.NextCode();
        using (var first = new AdminClient(app.Client().BaseAddress!))
        {
            await first.SignInAsync(member.Email, member.Password, code);
        }

        using var second = new AdminClient(app.Client().BaseAddress!);
        (await second.TrySignInAsync(member.Email, member.Password, code)).StatusCode.ShouldBe(HttpStatusCode.OK, "a replayed code");
        await second.SignInAsync(member.Email, member.Password, member.RecoveryCodes[0].ToLowerInvariant());
        using var third = new AdminClient(app.Client().BaseAddress!);
        (await third.TrySignInAsync(member.Email, member.Password, member.RecoveryCodes[0])).StatusCode.ShouldBe(HttpStatusCode.OK, "a spent recovery code");
        third.Cookies.ShouldNotContainKey(AdminCookie.Name);
        await third.SignInAsync(member.Email, member.Password, member.RecoveryCodes[1].Replace("-", string.Empty, StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_role_change_applies_at_the_members_next_request_and_disabling_ends_the_session()
    {
        await using var app = await EmbeddedAppAsync();
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        var member = await StaffSeed.EnrolledAsync(app, "member@example.com", StaffRoles.Support);
        using var boss = new AdminClient(app.Client().BaseAddress!);
        await boss.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        using var session = new AdminClient(app.Client().BaseAddress!);
        await session.SignInAsync(member.Email, member.Password, member.NextCode());
        (await session.GetAsync($"{Admin}/staff")).Status.ShouldBe(HttpStatusCode.Forbidden);

        await boss.GetAsync($"{Admin}/staff");
        var promoted = await boss.PostAsync($"{Admin}/staff?handler=Role", new Dictionary<string, string> { ["Id"] = member.Id.ToString(), ["Role"] = "superuser", ["ExpectedRole"] = "support" });
        promoted.Body.ShouldContain("Role changed.");
        (await session.GetAsync($"{Admin}/staff")).Status.ShouldBe(HttpStatusCode.OK);

        // A form that still shows the old role is refused rather than applied over the change.
        await boss.GetAsync($"{Admin}/staff");
        var stale = await boss.PostAsync($"{Admin}/staff?handler=Role", new Dictionary<string, string> { ["Id"] = member.Id.ToString(), ["Role"] = "finance", ["ExpectedRole"] = "support" });
        stale.Body.ShouldContain("this account changed since the page was shown; nothing was changed");
        // Nor can a superuser change their own account.
        var own = await boss.PostAsync($"{Admin}/staff?handler=Disable", new Dictionary<string, string> { ["Id"] = superuser.Id.ToString() });
        own.Body.ShouldContain("You cannot change your own account here");

        await boss.GetAsync($"{Admin}/staff");
        (await boss.PostAsync($"{Admin}/staff?handler=Disable", new Dictionary<string, string> { ["Id"] = member.Id.ToString() })).Body.ShouldContain("Staff member disabled");
        var afterDisable = await session.GetAsync(Admin);
        afterDisable.Status.ShouldBe(HttpStatusCode.Redirect);
        afterDisable.Response.Headers.Location!.AbsolutePath().ShouldBe($"{Admin}/sign-in");
        using var again = new AdminClient(app.Client().BaseAddress!);
        (await again.TrySignInAsync(member.Email, member.Password, member.RecoveryCodes[0])).StatusCode.ShouldBe(HttpStatusCode.OK);
        again.Cookies.ShouldNotContainKey(AdminCookie.Name);

        var changes = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Target?.Contains(member.Id.ToString(), StringComparison.Ordinal) == true && entry.StaffId == superuser.Id).ToList();
        changes.Select(entry => (entry.Action, entry.Before, entry.After)).ShouldBe(
        [
            (AdminActions.StaffRoleChanged, """{"Role":"support"}""", """{"Role":"superuser"}"""),
            (AdminActions.StaffDisabled, """{"Disabled":false}""", """{"Disabled":true}"""),
        ]);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_pages_follow_the_browsers_language()
    {
        await using var app = await EmbeddedAppAsync();
        using var client = app.Client("fr-CA, en;q=0.5");

        using var response = await client.GetAsync($"{Admin}/sign-in", Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);

        body.ShouldContain("<html lang=\"fr\">");
        body.ShouldContain("<button type=\"submit\">Se connecter</button>");
        response.Content.Headers.ContentLanguage.ShouldBe(["fr"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_audit_log_pages_newest_first_by_keyset_without_gaps_or_repeats()
    {
        await using var app = await EmbeddedAppAsync();
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        await StaffSeed.WithDbAsync(app, async db =>
        {
            db.AdminAudit.AddRange(Enumerable.Range(1, 60).Select(number => new AdminAuditEntry
            {
                StaffId = superuser.Id, StaffEmail = superuser.Email, Action = AdminActions.StaffInvited, Target = $"seeded {number:D2}", At = DateTimeOffset.UtcNow,
            }));
            return await db.SaveChangesAsync(Cancel);
        });
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        var all = (await StaffSeed.AuditAsync(app)).OrderByDescending(entry => entry.Id).Select(entry => entry.Target ?? string.Empty).ToList();

        var seen = new List<string>();
        var path = $"{Admin}/audit";
        var pages = 0;
        while (path is not null)
        {
            var (status, body, _) = await browser.GetAsync(path);
            status.ShouldBe(HttpStatusCode.OK);
            var rows = AuditRowTargets().Matches(body).Select(match => WebUtility.HtmlDecode(match.Groups[1].Value)).ToList();
            rows.Count.ShouldBeLessThanOrEqualTo(50);
            seen.AddRange(rows);
            path = NextPage().Match(body) is { Success: true } next ? WebUtility.HtmlDecode(next.Groups[1].Value) : null;
            pages++;
        }

        pages.ShouldBe(2);
        // Every row once, newest first.
        seen.ShouldBe(all.Take(seen.Count).ToList());
        seen.Count.ShouldBe(all.Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_session_ends_after_the_idle_timeout_and_each_request_within_it_extends_it()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartOnAsync(
            DatabaseShape.Sqlite,
            TestDatabases.CreateSqlite("admin-idle"),
            new Dictionary<string, string?> { ["Admin:IdleTimeoutMinutes"] = "30" },
            new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var member = await StaffSeed.EnrolledAsync(app, "idle@example.com", StaffRoles.Support);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(member.Email, member.Password, member.NextCode(clock));

        // Two requests 20 minutes apart: each one past half the timeout renews the session for another 30.
        foreach (var _ in Enumerable.Range(0, 3))
        {
            clock.Advance(TimeSpan.FromMinutes(20));
            (await browser.GetAsync(Admin)).Status.ShouldBe(HttpStatusCode.OK);
        }

        clock.Advance(TimeSpan.FromMinutes(31));
        var (status, _, response) = await browser.GetAsync(Admin);
        status.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.AbsolutePath().ShouldBe($"{Admin}/sign-in");
    }

    [System.Text.RegularExpressions.GeneratedRegex("<td class=\"action\">[^<]*</td>\\s*<td>([^<]*)</td>")]
    private static partial System.Text.RegularExpressions.Regex AuditRowTargets();

    [System.Text.RegularExpressions.GeneratedRegex("<a\\s[^>]*href=\"([^\"]+)\"[^>]*>Older entries</a>")]
    private static partial System.Text.RegularExpressions.Regex NextPage();
}
