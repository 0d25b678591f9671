using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Pages;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>The users screen: finding an account, reading it, and support's ban, unban and ending of sessions.</summary>
public sealed partial class AdminUsersTests
{
    private const string Admin = AdminClient.Path;

    /// <summary>A signed-in route that reads nothing but the token.</summary>
    private const string TokenOnlyRoute = "/api/v1/auth/sessions";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<RootApp> EmbeddedAppAsync() => RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-users"));

    /// <summary>An account registered the product's way (deduplication record included) with a session on a device.</summary>
    private sealed record Customer(Guid Id, TokenPair Tokens);

    private static async Task<Customer> CustomerAsync(RootApp app, string email, string deviceId, UserLoginInfo? login = null, string ip = "203.0.113.7")
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var time = services.GetRequiredService<TimeProvider>();
        var user = new User { Id = Guid.CreateVersion7(), Email = email, EmailConfirmed = true, CreatedAt = time.GetUtcNow() };
        user.UserName = user.Id.ToString("N");
        EmailNormalizer.TryNormalize(email, out var normalized).ShouldBeTrue();
        var client = new ClientInfo(ip, ClientInfo.Hash(deviceId), "ios", "1.2.3", "AppTest/1.0");
        (await services.GetRequiredService<AccountRegistration>().RegisterAsync(user, normalized.CanonicalKey, login, client, Cancel)).ShouldNotBeNull();
        var tokens = await services.GetRequiredService<Sessions>().StartAsync(user, "otp", client, Cancel);
        return new Customer(user.Id, tokens);
    }

    private static async Task<AdminClient> SignedInAsync(RootApp app, string role)
    {
        var member = await StaffSeed.EnrolledAsync(app, $"{role}@example.com", role);
        var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(member.Email, member.Password, member.NextCode());
        return browser;
    }

    private static async Task<HttpStatusCode> ApiStatusAsync(RootApp app, string accessToken)
    {
        using var http = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenOnlyRoute);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, Cancel);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> RefreshStatusAsync(RootApp app, string refreshToken)
    {
        using var http = app.Client();
        using var response = await http.PostAsync("/api/v1/auth/token/refresh", JsonContent(refreshToken), Cancel);
        return response.StatusCode;
    }

    private static StringContent JsonContent(string refreshToken) =>
        new($"{{\"refresh_token\":\"{refreshToken}\"}}", System.Text.Encoding.UTF8, "application/json");

    private static Task<User> UserAsync(RootApp app, Guid id) =>
        StaffSeed.WithDbAsync(app, db => db.Users.AsNoTracking().SingleAsync(user => user.Id == id, Cancel));

    private static async Task<List<AdminAuditEntry>> UserAuditAsync(RootApp app, Guid id) =>
        (await StaffSeed.AuditAsync(app)).Where(entry => entry.Target == id.ToString()).ToList();

    [Fact(Timeout = 120_000)]
    public async Task Search_finds_an_account_by_address_canonical_mailbox_user_id_and_device_id()
    {
        await using var app = await EmbeddedAppAsync();
        var customer = await CustomerAsync(app, "jane.doe@gmail.com", "device-jane");
        await CustomerAsync(app, "someone.else@example.com", "device-other");
        using var browser = await SignedInAsync(app, StaffRoles.Support);

        foreach (var query in new[] { "jane.doe@gmail.com", "JaneDoe+promo@googlemail.com", customer.Id.ToString(), "device-jane" })
        {
            var (status, body, _) = await browser.GetAsync($"{Admin}/users?Query={Uri.EscapeDataString(query)}");
            status.ShouldBe(HttpStatusCode.OK);
            body.ShouldContain($"{Admin}/users/{customer.Id}", customMessage: query);
            body.ShouldNotContain("someone.else@example.com", customMessage: query);
        }

        (await browser.GetAsync($"{Admin}/users?Query=nobody%40example.com")).Body.ShouldContain("No account matches that search.");
    }

    [Fact(Timeout = 120_000)]
    public async Task Many_accounts_on_one_device_page_by_keyset_each_once()
    {
        await using var app = await EmbeddedAppAsync();
        var expected = new List<Guid>();
        for (var number = 1; number <= UsersModel.PageSize + 3; number++)
        {
            // One address each, so the per-IP cap of registration lets them all in.
            expected.Add((await CustomerAsync(app, $"farm{number}@example.com", "farm-device", ip: $"198.51.100.{number}")).Id);
        }

        using var browser = await SignedInAsync(app, StaffRoles.Support);
        var seen = new List<Guid>();
        var path = $"{Admin}/users?Query=farm-device";
        var pages = 0;
        while (path is not null)
        {
            var (status, body, _) = await browser.GetAsync(path);
            status.ShouldBe(HttpStatusCode.OK);
            seen.AddRange(UserLinks().Matches(body).Select(match => Guid.Parse(match.Groups[1].Value)));
            path = NextPage().Match(body) is { Success: true } next ? WebUtility.HtmlDecode(next.Groups[1].Value) : null;
            pages++;
        }

        pages.ShouldBe(2);
        seen.Count.ShouldBe(expected.Count);
        seen.ShouldBe(expected, ignoreOrder: true);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_account_page_shows_identities_sessions_signals_and_linked_accounts()
    {
        await using var app = await EmbeddedAppAsync();
        var customer = await CustomerAsync(app, "social@example.com", "shared-device", new UserLoginInfo("github", "gh-42", "octo-jane"));
        var twin = await CustomerAsync(app, "twin@example.com", "shared-device");
        using var browser = await SignedInAsync(app, StaffRoles.Superuser);

        var (status, body, _) = await browser.GetAsync($"{Admin}/users/{customer.Id}");

        status.ShouldBe(HttpStatusCode.OK);
        body.ShouldContain("social@example.com");
        body.ShouldContain("github: octo-jane");
        body.ShouldContain("AppTest/1.0");
        body.ShouldContain("203.0.113.7");
        body.ShouldContain($"{Admin}/users/{twin.Id}");
        body.ShouldContain($"{twin.Id}</a> (Device, Ip)");
        (await browser.GetAsync($"{Admin}/users/{Guid.NewGuid()}")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_ban_refuses_the_bearer_token_and_is_audited_and_a_stale_ban_changes_nothing()
    {
        await using var app = await EmbeddedAppAsync();
        var customer = await CustomerAsync(app, "banned@example.com", "device-banned");
        (await ApiStatusAsync(app, customer.Tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);
        using var browser = await SignedInAsync(app, StaffRoles.Support);
        var page = $"{Admin}/users/{customer.Id}";

        await browser.GetAsync(page);
        var banned = await browser.PostAsync($"{page}?handler=Ban", new Dictionary<string, string> { ["ExpectedBanned"] = "false", ["Reason"] = "chargeback fraud" });

        banned.Body.ShouldContain("Account banned");
        (await UserAsync(app, customer.Id)).DisabledAt.ShouldNotBeNull();
        (await ApiStatusAsync(app, customer.Tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshStatusAsync(app, customer.Tokens.RefreshToken)).ShouldBe(HttpStatusCode.Unauthorized);
        var audit = (await UserAuditAsync(app, customer.Id)).ShouldHaveSingleItem();
        (audit.Action, audit.Before, audit.After, audit.Reason).ShouldBe((AdminActions.UserBanned, """{"banned":false}""", """{"banned":true}""", "chargeback fraud"));

        // The same form again, shown before the ban: refused, nothing more recorded.
        var stale = await browser.PostAsync($"{page}?handler=Ban", new Dictionary<string, string> { ["ExpectedBanned"] = "false", ["Reason"] = "again" });
        stale.Body.ShouldContain("The account changed since this page was shown; nothing was done.");
        (await UserAuditAsync(app, customer.Id)).Count.ShouldBe(1);

        await browser.GetAsync(page);
        var lifted = await browser.PostAsync($"{page}?handler=Unban", new Dictionary<string, string> { ["ExpectedBanned"] = "true", ["Reason"] = "refund settled" });
        lifted.Body.ShouldContain("Ban lifted");
        (await UserAsync(app, customer.Id)).DisabledAt.ShouldBeNull();
        (await UserAuditAsync(app, customer.Id)).Select(entry => entry.Action).ShouldBe([AdminActions.UserBanned, AdminActions.UserUnbanned]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Ending_the_sessions_refuses_refresh_and_is_audited()
    {
        await using var app = await EmbeddedAppAsync();
        var customer = await CustomerAsync(app, "stolen.phone@example.com", "device-stolen");
        using var browser = await SignedInAsync(app, StaffRoles.Support);
        var page = $"{Admin}/users/{customer.Id}";

        await browser.GetAsync(page);
        var ended = await browser.PostAsync($"{page}?handler=Revoke", new Dictionary<string, string> { ["ExpectedBanned"] = "false", ["Reason"] = "phone stolen" });

        ended.Body.ShouldContain("Every session of the account is ended.");
        ended.Body.ShouldContain($"({UserModel.RevokedByStaff})");
        (await ApiStatusAsync(app, customer.Tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshStatusAsync(app, customer.Tokens.RefreshToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await UserAsync(app, customer.Id)).DisabledAt.ShouldBeNull();
        var audit = (await UserAuditAsync(app, customer.Id)).ShouldHaveSingleItem();
        (audit.Action, audit.Before, audit.After, audit.Reason).ShouldBe((AdminActions.UserSessionsRevoked, """{"open_sessions":1}""", """{"open_sessions":0}""", "phone stolen"));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_missing_reason_is_refused_and_changes_nothing()
    {
        await using var app = await EmbeddedAppAsync();
        var customer = await CustomerAsync(app, "no.reason@example.com", "device-reason");
        using var browser = await SignedInAsync(app, StaffRoles.Support);
        var page = $"{Admin}/users/{customer.Id}";

        foreach (var handler in new[] { "Ban", "Revoke" })
        {
            await browser.GetAsync(page);
            var refused = await browser.PostAsync($"{page}?handler={handler}", new Dictionary<string, string> { ["ExpectedBanned"] = "false", ["Reason"] = "  " });
            refused.Body.ShouldContain("Reason: say why; it is kept in the audit log.", customMessage: handler);
        }

        (await UserAsync(app, customer.Id)).DisabledAt.ShouldBeNull();
        (await ApiStatusAsync(app, customer.Tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);
        (await UserAuditAsync(app, customer.Id)).ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task Finance_is_refused_every_page_and_handler_and_nothing_changes()
    {
        await using var app = await EmbeddedAppAsync();
        var customer = await CustomerAsync(app, "untouched@example.com", "device-untouched");
        using var browser = await SignedInAsync(app, StaffRoles.Finance);
        var page = $"{Admin}/users/{customer.Id}";

        (await browser.GetAsync(Admin)).Body.ShouldNotContain($"href=\"{Admin}/users\"");
        (await browser.GetAsync($"{Admin}/users?Query=untouched%40example.com")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await browser.GetAsync(page)).Status.ShouldBe(HttpStatusCode.Forbidden);
        foreach (var handler in new[] { "Ban", "Unban", "Revoke" })
        {
            // The dashboard's form token, as a member who made up the form would have.
            await browser.GetAsync(Admin);
            (await browser.PostAsync($"{page}?handler={handler}", new Dictionary<string, string> { ["ExpectedBanned"] = handler == "Unban" ? "true" : "false", ["Reason"] = "not mine" }))
                .Status.ShouldBe(HttpStatusCode.Forbidden, handler);
        }

        (await UserAsync(app, customer.Id)).DisabledAt.ShouldBeNull();
        (await ApiStatusAsync(app, customer.Tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);
        (await UserAuditAsync(app, customer.Id)).ShouldBeEmpty();
    }

    [GeneratedRegex("<td><a href=\"/admin/users/([0-9a-f-]{36})\">")]
    private static partial Regex UserLinks();

    [GeneratedRegex("<a\\s[^>]*href=\"([^\"]+)\"[^>]*>More accounts</a>")]
    private static partial Regex NextPage();
}
