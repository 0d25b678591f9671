using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>The credit packs screen: what a superuser creates and edits is what apps are offered, in their language.</summary>
public sealed partial class AdminPacksTests(PostgresServer postgres)
{
    private const string Admin = AdminClient.Path;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 180_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task Packs_created_and_edited_here_are_what_the_public_api_offers_and_bad_or_stale_forms_change_nothing(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());
        var (_, list, _) = await browser.GetAsync($"{Admin}/packs");
        WebUtility.HtmlDecode(list).ShouldContain("Pack découverte");

        // Every bad field named, nothing created.
        await browser.GetAsync($"{Admin}/packs/edit");
        var refused = await CreateAsync(browser, new() { ["NewId"] = "Bad Id", ["Credits"] = "0", ["Price"] = "", ["Currency"] = "us", ["SortOrder"] = "-1", ["Names[en]"] = " " });
        refused.ShouldContain("Pack id: use 1 to 64 lowercase letters");
        refused.ShouldContain("Credits: enter a whole number from 1 to 10000000.");
        refused.ShouldContain("Price: enter a whole number of the currency");
        refused.ShouldContain("Currency: enter a three-letter ISO 4217 code");
        refused.ShouldContain("Order: enter a whole number from 0 to 100000.");
        refused.ShouldContain("Name (en): required");
        (await PackIdsAsync(app)).ShouldBe(["pro", "standard", "starter"]);

        // Created: sold at once, named in the caller's language with the usual fallback.
        var created = await browser.PostAsync($"{Admin}/packs/edit", Mega(isActive: true));
        created.Status.ShouldBe(HttpStatusCode.Redirect);
        created.Response.Headers.Location!.OriginalString.ShouldBe($"{Admin}/packs?saved=mega");
        var offered = (await PublicPackAsync(app, "fr", "mega")).ShouldNotBeNull();
        (offered["name"]!.GetValue<string>(), offered["credits"]!.GetValue<long>(), offered["price"]!.GetValue<long>(), offered["currency"]!.GetValue<string>())
            .ShouldBe(("Méga pack", 5000L, 9999L, "eur"));
        (await PublicPackAsync(app, "de", "mega"))!["name"]!.GetValue<string>().ShouldBe("Mega pack");
        (await CreateAsync(browser, Mega(isActive: true))).ShouldContain("Pack id: a pack with this id exists already.");

        // Edited: the new price and name are offered, the other languages kept.
        var form = await EditFormAsync(browser, "starter");
        form["Price"] = "599";
        form["Names[en]"] = "Starter plus";
        (await browser.PostAsync($"{Admin}/packs/edit/starter", form)).Status.ShouldBe(HttpStatusCode.Redirect);
        var starter = (await PublicPackAsync(app, "en", "starter"))!;
        (starter["name"]!.GetValue<string>(), starter["price"]!.GetValue<long>()).ShouldBe(("Starter plus", 599));
        (await PublicPackAsync(app, "es", "starter"))!["name"]!.GetValue<string>().ShouldBe("Paquete inicial");

        // The same form again is stale: refused, the pack as the first save left it.
        form["Price"] = "1";
        var (staleStatus, stale, _) = await browser.PostAsync($"{Admin}/packs/edit/starter", form);
        staleStatus.ShouldBe(HttpStatusCode.OK);
        WebUtility.HtmlDecode(stale).ShouldContain("The pack changed since this form was shown; nothing was saved.");
        (await PublicPackAsync(app, "en", "starter"))!["price"]!.GetValue<long>().ShouldBe(599);

        // Sold in the stores: the product ids apps offer in StoreKit and Play Billing; each product sells one pack only.
        var inStores = await EditFormAsync(browser, "starter");
        inStores["AppStoreProductId"] = "com.apptork.credits100";
        inStores["GooglePlayProductId"] = "credits_100";
        (await browser.PostAsync($"{Admin}/packs/edit/starter", inStores)).Status.ShouldBe(HttpStatusCode.Redirect);
        starter = (await PublicPackAsync(app, "en", "starter"))!;
        (starter["app_store_product_id"]!.GetValue<string>(), starter["google_play_product_id"]!.GetValue<string>()).ShouldBe(("com.apptork.credits100", "credits_100"));
        var taken = await EditFormAsync(browser, "mega");
        taken["AppStoreProductId"] = "com.apptork.credits100";
        WebUtility.HtmlDecode((await browser.PostAsync($"{Admin}/packs/edit/mega", taken)).Body).ShouldContain("Another pack already sells this store product.");
        taken["AppStoreProductId"] = "credits 100!";
        WebUtility.HtmlDecode((await browser.PostAsync($"{Admin}/packs/edit/mega", taken)).Body).ShouldContain("A store product id has letters, digits");
        (await PublicPackAsync(app, "en", "mega"))!["app_store_product_id"].ShouldBeNull();

        // Taken off sale: no longer offered, still listed here.
        var mega = await EditFormAsync(browser, "mega");
        mega.Remove("IsActive");
        mega["IsActive"] = "false";
        (await browser.PostAsync($"{Admin}/packs/edit/mega", mega)).Status.ShouldBe(HttpStatusCode.Redirect);
        (await PublicPackAsync(app, "en", "mega")).ShouldBeNull();
        (await browser.GetAsync($"{Admin}/packs")).Body.ShouldContain("Mega pack");

        var audit = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action is AdminActions.PackCreated or AdminActions.PackUpdated).ToList();
        audit.Select(entry => (entry.Action, entry.Target, entry.StaffId)).ShouldBe([
            (AdminActions.PackCreated, "pack:mega", (Guid?)superuser.Id), (AdminActions.PackUpdated, "pack:starter", superuser.Id),
            (AdminActions.PackUpdated, "pack:starter", superuser.Id), (AdminActions.PackUpdated, "pack:mega", superuser.Id),
        ]);
        audit[0].Before.ShouldBeNull();
        audit[1].Before!.ShouldContain("\"Price\":499");
        audit[1].After!.ShouldContain("\"Price\":599");
        audit[2].After!.ShouldContain("\"AppStoreProductId\":\"com.apptork.credits100\"");
        audit[3].After!.ShouldContain("\"IsActive\":false");
    }

    [Fact(Timeout = 120_000)]
    public async Task Finance_reads_the_packs_but_cannot_edit_them()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        var (status, body, _) = await browser.GetAsync($"{Admin}/packs");
        status.ShouldBe(HttpStatusCode.OK);
        body.ShouldContain("Starter pack");
        body.ShouldNotContain($"{Admin}/packs/edit");
        (await browser.GetAsync($"{Admin}/packs/edit/starter")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await browser.PostAsync($"{Admin}/packs/edit", Mega(isActive: true))).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await PackIdsAsync(app)).ShouldBe(["pro", "standard", "starter"]);
    }

    private static Dictionary<string, string> Mega(bool isActive) => new()
    {
        ["NewId"] = "mega", ["Credits"] = "5000", ["Price"] = "9999", ["Currency"] = "EUR", ["SortOrder"] = "4", ["IsActive"] = isActive ? "true" : "false",
        ["Names[en]"] = "Mega pack", ["Names[fr]"] = "Méga pack",
    };

    private static async Task<string> CreateAsync(AdminClient browser, Dictionary<string, string> form)
    {
        var (status, body, _) = await browser.PostAsync($"{Admin}/packs/edit", form);
        status.ShouldBe(HttpStatusCode.OK);
        return WebUtility.HtmlDecode(body);
    }

    /// <summary>The edit form's fields as the page fills them, ready to post back.</summary>
    private static async Task<Dictionary<string, string>> EditFormAsync(AdminClient browser, string id)
    {
        var (status, body, _) = await browser.GetAsync($"{Admin}/packs/edit/{id}");
        status.ShouldBe(HttpStatusCode.OK);
        var fields = new Dictionary<string, string>();
        foreach (Match input in InputField().Matches(body))
        {
            var name = WebUtility.HtmlDecode(input.Groups["name"].Value);
            if (name != "__RequestVerificationToken" && !(name == "IsActive" && !input.Value.Contains("checked", StringComparison.Ordinal)))
            {
                fields.TryAdd(name, WebUtility.HtmlDecode(input.Groups["value"].Value));
            }
        }

        fields.ShouldContainKey("ExpectedVersion");
        return fields;
    }

    private static async Task<JsonNode?> PublicPackAsync(RootApp app, string language, string id)
    {
        var packs = JsonNode.Parse(await app.Client(language).GetStringAsync("/api/v1/checkout/packs", Cancel))!["results"]!.AsArray();
        return packs.SingleOrDefault(pack => pack!["id"]!.GetValue<string>() == id);
    }

    private static Task<List<string>> PackIdsAsync(RootApp app) =>
        new WalletBooks(app).WithDbAsync(db => db.CreditPacks.OrderBy(pack => pack.Id).Select(pack => pack.Id).ToListAsync(Cancel));

    [GeneratedRegex("<input[^>]*name=\"(?<name>[^\"]+)\"[^>]*value=\"(?<value>[^\"]*)\"[^>]*>")]
    private static partial Regex InputField();
}
