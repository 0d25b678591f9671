using System.Net;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.FeatureFlags;
using Apptork.Root.Tests.Features.Messages;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// The catalog screens (feature flags, messages, email domain rules): what a superuser changes there is what the public
/// API serves at once, every refusal changes nothing, and each change leaves one audit row with its before and after.
/// </summary>
public sealed partial class AdminCatalogTests(PostgresServer postgres)
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 180_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task A_flag_created_toggled_edited_and_deleted_in_the_admin_is_what_the_public_api_serves(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var flags = new FlagsClient(app);
        var appUser = await new AuthClient(app).SignInAsync("player@example.com");
        using var browser = await SuperuserAsync(app);
        (await flags.FlagsAsync(appUser.AccessToken)).ShouldNotContainKey("dark_mode");

        // Refused field by field, naming each field: nothing created, nothing audited.
        await browser.GetAsync($"{Admin}/flags");
        var refused = await PostOkAsync(browser, $"{Admin}/flags?handler=Save", new()
        {
            ["Key"] = "Dark Mode", ["RolloutPercentage"] = "150", ["Description[fr]"] = "Mode sombre",
        });
        refused.ShouldContain("Nothing was saved: correct the fields below.");
        refused.ShouldContain("Key: This value is not valid.");
        refused.ShouldContain("Rollout (% of users): Ensure this value is less than or equal to 100.");
        refused.ShouldContain("Description (en): This field is required.");
        (await StaffSeed.WithDbAsync(app, db => db.FeatureFlags.CountAsync(Cancel))).ShouldBe(0);

        var created = await PostOkAsync(browser, $"{Admin}/flags?handler=Save", new()
        {
            ["Key"] = "dark_mode", ["RolloutPercentage"] = "100", ["Description[en]"] = "Dark theme", ["Description[fr]"] = "Thème sombre",
        });
        created.ShouldContain("The flag was created");
        (await flags.FlagsAsync(appUser.AccessToken))["dark_mode"].ShouldBeFalse();

        var page = (await browser.GetAsync($"{Admin}/flags")).Body;
        var shownVersion = RowVersion(page, "dark_mode");
        (await PostOkAsync(browser, $"{Admin}/flags?handler=Toggle", new() { ["Key"] = "dark_mode", ["ExpectedVersion"] = shownVersion }))
            .ShouldContain("The flag was saved");
        (await flags.FlagsAsync(appUser.AccessToken))["dark_mode"].ShouldBeTrue();

        // The same toggle form again: it showed the flag off, the flag is on now; refused, nothing changed.
        (await PostOkAsync(browser, $"{Admin}/flags?handler=Toggle", new() { ["Key"] = "dark_mode", ["ExpectedVersion"] = shownVersion }))
            .ShouldContain("This changed since the page was shown");
        (await flags.FlagsAsync(appUser.AccessToken))["dark_mode"].ShouldBeTrue();

        // Premium users only: this free user no longer gets it.
        var editVersion = FormVersion((await browser.GetAsync($"{Admin}/flags?edit=dark_mode")).Body, "flag-form");
        (await PostOkAsync(browser, $"{Admin}/flags?handler=Save", new()
        {
            ["Edit"] = "dark_mode", ["ExpectedVersion"] = editVersion, ["Enabled"] = "true", ["RolloutPercentage"] = "100", ["Roles"] = "premium",
            ["Description[en]"] = "Dark theme for premium",
        })).ShouldContain("The flag was saved");
        (await flags.FlagsAsync(appUser.AccessToken))["dark_mode"].ShouldBeFalse();
        // The edit form shown before that save is stale now: its delete is refused.
        (await PostOkAsync(browser, $"{Admin}/flags?handler=Delete", new() { ["Edit"] = "dark_mode", ["ExpectedVersion"] = editVersion }))
            .ShouldContain("This changed since the page was shown");

        var deleteVersion = FormVersion((await browser.GetAsync($"{Admin}/flags?edit=dark_mode")).Body, "flag-form");
        (await PostOkAsync(browser, $"{Admin}/flags?handler=Delete", new() { ["Edit"] = "dark_mode", ["ExpectedVersion"] = deleteVersion }))
            .ShouldContain("The flag was deleted");
        (await flags.FlagsAsync(appUser.AccessToken)).ShouldNotContainKey("dark_mode");

        var rows = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action.StartsWith("flag.", StringComparison.Ordinal)).ToList();
        rows.Select(entry => entry.Action).ShouldBe([AdminActions.FlagCreated, AdminActions.FlagUpdated, AdminActions.FlagUpdated, AdminActions.FlagDeleted]);
        rows.ShouldAllBe(entry => entry.Target == "dark_mode" && entry.StaffEmail == "boss@example.com");
        (rows[0].Before, rows[0].After!.Contains("\"enabled\":false", StringComparison.Ordinal)).ShouldBe((null, true));
        (rows[1].Before, rows[1].After).ShouldBe(("{\"enabled\":false}", "{\"enabled\":true}"));
        rows[2].Before.ShouldBe("{\"roles\":[],\"description\":{\"en\":\"Dark theme\",\"fr\":\"Th\\u00E8me sombre\"}}");
        rows[2].After.ShouldBe("{\"roles\":[\"premium\"],\"description\":{\"en\":\"Dark theme for premium\"}}");
        (rows[3].Before!.Contains("\"roles\":[\"premium\"]", StringComparison.Ordinal), rows[3].After).ShouldBe((true, null));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_message_written_in_the_admin_is_served_translated_and_a_stale_or_invalid_form_changes_nothing()
    {
        await using var app = await EmbeddedAppAsync("admin-messages");
        var messages = new MessagesClient(app);
        using var browser = await SuperuserAsync(app);
        await browser.GetAsync($"{Admin}/messages");

        var invalid = await PostOkAsync(browser, $"{Admin}/messages?handler=Save", MessageForm(new() { ["Title[fr]"] = "Maintenance ce soir", ["ActionUrl"] = "javascript:alert(1)" }));
        invalid.ShouldContain("Title (en): This field is required.");
        invalid.ShouldContain("Action (url): This value is not valid.");
        (await StaffSeed.WithDbAsync(app, db => db.Messages.CountAsync(Cancel))).ShouldBe(0);

        var created = await PostOkAsync(browser, $"{Admin}/messages?handler=Save", MessageForm(new()
        {
            ["Title[en]"] = "Maintenance tonight", ["BodyText[en]"] = "We pause at 2 UTC.",
            ["Title[fr]"] = "Maintenance ce soir", ["BodyText[fr]"] = "Pause à 2 h UTC.",
        }));
        created.ShouldContain("The message was created");
        (await messages.TitlesAsync(language: "fr")).ShouldBe(["Maintenance ce soir"]);
        (await messages.TitlesAsync(language: "de")).ShouldBe(["Maintenance tonight"]);

        var id = Regex.Match(created, "name=\"Edit\" value=\"([0-9a-f-]{36})\"").Groups[1].Value;
        var version = FormVersion(created, "message-form");
        var edit = MessageForm(new()
        {
            ["Edit"] = id, ["ExpectedVersion"] = version, ["Title[en]"] = "Maintenance moved", ["BodyText[en]"] = "We pause at 4 UTC.",
            ["Title[fr]"] = "Maintenance déplacée", ["BodyText[fr]"] = "Pause à 4 h UTC.", ["Title[de]"] = "Wartung verschoben", ["BodyText[de]"] = "Pause um 4 Uhr UTC.",
        });
        (await PostOkAsync(browser, $"{Admin}/messages?handler=Save", edit)).ShouldContain("The message was saved");
        var (list, response) = await messages.ListAsync(language: "fr");
        response.Dispose();
        var served = list.Results.ShouldHaveSingleItem();
        (served.Title, served.Body, served.Language).ShouldBe(("Maintenance déplacée", "Pause à 4 h UTC.", "fr"));
        (await messages.TitlesAsync(language: "de")).ShouldBe(["Wartung verschoben"]);

        // The same form again: the message changed since it was shown.
        (await PostOkAsync(browser, $"{Admin}/messages?handler=Save", edit)).ShouldContain("This changed since the page was shown");
        (await messages.TitlesAsync(language: "de")).ShouldBe(["Wartung verschoben"]);

        var rows = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action.StartsWith("message.", StringComparison.Ordinal)).ToList();
        rows.Select(entry => entry.Action).ShouldBe([AdminActions.MessageCreated, AdminActions.MessageUpdated]);
        rows.ShouldAllBe(entry => entry.Target == $"message:{id}");
        rows[1].Before.ShouldBe("{\"title\":{\"en\":\"Maintenance tonight\",\"fr\":\"Maintenance ce soir\"},\"body\":{\"en\":\"We pause at 2 UTC.\",\"fr\":\"Pause \\u00E0 2 h UTC.\"}}");
        rows[1].After!.ShouldContain("\"de\":\"Wartung verschoben\"");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_domain_blocked_in_the_admin_is_refused_at_sign_up_until_its_rule_is_removed()
    {
        await using var app = await EmbeddedAppAsync("admin-domains");
        var auth = new AuthClient(app);
        using var browser = await SuperuserAsync(app);
        using (var before = await auth.TryRequestCodeAsync("someone@spam-corp.example"))
        {
            before.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        (await browser.GetAsync($"{Admin}/domains?Check=someone%40mailinator.com")).Body.ShouldContain("mailinator.com is refused at sign-in: it is on the shipped list");
        (await PostOkAsync(browser, $"{Admin}/domains?handler=Add", new() { ["Domain"] = "not a domain", ["Kind"] = "Block" }))
            .ShouldContain("Domain: enter a domain name such as example.com");
        (await PostOkAsync(browser, $"{Admin}/domains?handler=Add", new() { ["Domain"] = "spam-corp.example", ["Kind"] = "Quarantine" }))
            .ShouldContain("Rule: This value is not valid.");
        (await StaffSeed.WithDbAsync(app, db => db.EmailDomainRules.CountAsync(Cancel))).ShouldBe(0);
        (await PostOkAsync(browser, $"{Admin}/domains?handler=Add", new() { ["Domain"] = "Spam-Corp.Example.", ["Kind"] = "Block", ["Note"] = "ticket 42" }))
            .ShouldContain("The rule was added");
        (await PostOkAsync(browser, $"{Admin}/domains?handler=Add", new() { ["Domain"] = "spam-corp.example", ["Kind"] = "Allow" }))
            .ShouldContain("Domain: it has a rule already");

        using (var blocked = await auth.TryRequestCodeAsync("someone@mail.spam-corp.example"))
        {
            await ErrorAssert.SingleAsync(blocked, HttpStatusCode.BadRequest, "validation_error", "disposable_email", "email");
        }

        (await browser.GetAsync($"{Admin}/domains?Check=mail.spam-corp.example")).Body
            .ShouldContain("mail.spam-corp.example is refused at sign-in: an operator blocked spam-corp.example.");
        var rule = await StaffSeed.WithDbAsync(app, db => db.EmailDomainRules.AsNoTracking().SingleAsync(Cancel));
        (rule.Domain, rule.Note).ShouldBe(("spam-corp.example", "ticket 42"));

        // A remove form that showed another kind of rule is stale: the rule stays.
        (await PostOkAsync(browser, $"{Admin}/domains?handler=Remove", new() { ["Id"] = rule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Kind"] = "Allow" }))
            .ShouldContain("This changed since the page was shown");
        (await PostOkAsync(browser, $"{Admin}/domains?handler=Remove", new() { ["Id"] = rule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Kind"] = "Block" }))
            .ShouldContain("The rule was removed");
        using (var after = await auth.TryRequestCodeAsync("another@spam-corp.example"))
        {
            after.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        var rows = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action.StartsWith("domain_rule.", StringComparison.Ordinal)).ToList();
        rows.Select(entry => (entry.Action, entry.Target)).ShouldBe([(AdminActions.DomainRuleCreated, "spam-corp.example"), (AdminActions.DomainRuleDeleted, "spam-corp.example")]);
        (rows[0].Before, rows[0].After).ShouldBe((null, "{\"domain\":\"spam-corp.example\",\"kind\":\"block\",\"note\":\"ticket 42\"}"));
        (rows[1].Before, rows[1].After).ShouldBe(("{\"domain\":\"spam-corp.example\",\"kind\":\"block\",\"note\":\"ticket 42\"}", null));
    }

    /// <summary>One request of the table: a page read or a form posted to one handler.</summary>
    private sealed record Request(string Name, HttpMethod Method, string Path, Func<string, Dictionary<string, string>>? Form = null);

    [Fact(Timeout = 120_000)]
    public async Task Every_catalog_page_and_handler_answers_each_role_as_the_table_says()
    {
        await using var app = await EmbeddedAppAsync("admin-catalog-access");
        Request flags = new("flags", HttpMethod.Get, $"{Admin}/flags");
        Request flagSave = new("flag save", HttpMethod.Post, $"{Admin}/flags?handler=Save", role => new() { ["Key"] = $"made_by_{role}", ["Description[en]"] = "table" });
        Request messages = new("messages", HttpMethod.Get, $"{Admin}/messages");
        Request messageSave = new("message save", HttpMethod.Post, $"{Admin}/messages?handler=Save", role => MessageForm(new() { ["Title[en]"] = $"by {role}", ["BodyText[en]"] = "table" }));
        Request domains = new("domains", HttpMethod.Get, $"{Admin}/domains?Check=mailinator.com");
        Request domainAdd = new("domain add", HttpMethod.Post, $"{Admin}/domains?handler=Add", role => new() { ["Domain"] = $"{role}.example", ["Kind"] = "Block" });
        Request[] requests = [flags, flagSave, messages, messageSave, domains, domainAdd];
        const HttpStatusCode Ok = HttpStatusCode.OK, Forbidden = HttpStatusCode.Forbidden, SignIn = HttpStatusCode.Redirect;
        var table = new Dictionary<string, HttpStatusCode[]>
        {
            //                 flags, flag save, messages, message save, domains, domain add
            ["anonymous"] = [SignIn, SignIn, SignIn, SignIn, SignIn, SignIn],
            [StaffRoles.Support] = [Ok, Forbidden, Ok, Forbidden, Ok, Forbidden],
            [StaffRoles.Finance] = [Ok, Forbidden, Ok, Forbidden, Forbidden, Forbidden],
            [StaffRoles.Superuser] = [Ok, Ok, Ok, Ok, Ok, Ok],
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
                    : await browser.PostAsync(request.Path, request.Form!(role));
                var wentToSignIn = status != SignIn || role != "anonymous" || response.Headers.Location?.AbsolutePath() == $"{Admin}/sign-in";
                if (actual != status || !wentToSignIn)
                {
                    mismatches.Add($"{role} {request.Name}: {(int)actual} {response.Headers.Location}, expected {(int)status}");
                }
            }
        }

        mismatches.ShouldBeEmpty();
        // Only the superuser's forms changed anything.
        (await StaffSeed.WithDbAsync(app, db => db.FeatureFlags.Select(flag => flag.Key).ToListAsync(Cancel))).ShouldBe(["made_by_superuser"]);
        (await StaffSeed.WithDbAsync(app, db => db.Messages.CountAsync(Cancel))).ShouldBe(1);
        (await StaffSeed.WithDbAsync(app, db => db.EmailDomainRules.Select(rule => rule.Domain).ToListAsync(Cancel))).ShouldBe(["superuser.example"]);
        var changes = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action is AdminActions.FlagCreated or AdminActions.MessageCreated or AdminActions.DomainRuleCreated).ToList();
        changes.Select(entry => entry.StaffEmail).Distinct().ShouldBe(["superuser@example.com"]);
        changes.Count.ShouldBe(3);
    }

    internal static Dictionary<string, string> MessageForm(Dictionary<string, string> fields)
    {
        var form = new Dictionary<string, string> { ["Severity"] = "info", ["SignInAudience"] = "everyone", ["Dismissible"] = "true", ["Priority"] = "0" };
        foreach (var (name, value) in fields)
        {
            form[name] = value;
        }

        return form;
    }

    private static Task<RootApp> EmbeddedAppAsync(string name) => RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite(name));

    private static async Task<AdminClient> SuperuserAsync(RootApp app)
    {
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        return browser;
    }

    private static async Task<string> PostOkAsync(AdminClient browser, string path, Dictionary<string, string> fields)
    {
        var (status, body, _) = await browser.PostAsync(path, fields);
        status.ShouldBe(HttpStatusCode.OK, body);
        return WebUtility.HtmlDecode(body);
    }

    /// <summary>The version the toggle form of a flag's row carries.</summary>
    private static string RowVersion(string page, string key)
    {
        var match = Regex.Match(page, $"id=\"flag-{key}\">.*?name=\"ExpectedVersion\" value=\"(\\d+)\"", RegexOptions.Singleline);
        match.Success.ShouldBeTrue($"no toggle form for {key}");
        return match.Groups[1].Value;
    }

    /// <summary>The version the edit form carries.</summary>
    private static string FormVersion(string page, string formId)
    {
        var match = Regex.Match(page, $"id=\"{formId}\"[^>]*>.*?name=\"ExpectedVersion\" value=\"(\\d+)\"", RegexOptions.Singleline);
        match.Success.ShouldBeTrue($"no version in {formId}");
        return match.Groups[1].Value;
    }
}
