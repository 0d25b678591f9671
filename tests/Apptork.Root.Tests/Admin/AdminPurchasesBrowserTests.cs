using System.Text.Json.Nodes;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// A purchase refunded and a pack repriced in Debian's Chromium, as an operator does it: the purchases list, a purchase,
/// its refund form, the packs list and a pack's form. Each screen is saved under TestResults/screenshots.
/// </summary>
public sealed class AdminPurchasesBrowserTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    [Long]
    public async Task An_operator_refunds_a_purchase_and_reprices_a_pack_in_a_browser()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var baseUrl = app.Client().BaseAddress!.AbsoluteUri.TrimEnd('/');
        var buyer = await new AuthClient(app).SignInAsync("browser.buyer@example.com");
        var paymentId = await AdminPurchasesTests.DevelopmentPurchaseAsync(app, buyer.AccessToken);
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the purchases screen's browser test");
        var page = await (await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } })).NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        await page.GotoAsync($"{baseUrl}/admin/sign-in");
        await page.GetByLabel("Email").FillAsync(superuser.Email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(superuser.Password);
        await page.GetByLabel("Authenticator code").FillAsync(superuser.NextCode());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync($"{baseUrl}/admin");

        await page.GetByRole(AriaRole.Link, new() { Name = "Purchases" }).ClickAsync();
        await page.GetByLabel("User (id or email)").FillAsync("browser.buyer@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-purchases-list");
        await page.Locator($"a[href$='/admin/purchases/{paymentId}']").ClickAsync();
        (await page.Locator("#purchase-status").TextContentAsync()).ShouldBe("paid");
        (await page.GetByLabel("Amount to refund, in USD's smallest unit (cents)").InputValueAsync()).ShouldBe("499");
        await page.GetByLabel("Amount to refund, in USD's smallest unit (cents)").FillAsync("250");
        await page.GetByLabel("Reason").FillAsync("charged twice by mistake");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-purchase-refund-form");
        await page.GetByRole(AriaRole.Button, new() { Name = "Refund through the provider" }).ClickAsync();
        (await page.Locator("[role=status]").TextContentAsync()).ShouldBe("The refund was made and the credits taken back.");
        (await page.Locator("#purchase-status").TextContentAsync()).ShouldBe("partially_refunded");
        (await page.Locator("table.entries tbody tr").CountAsync()).ShouldBe(2);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-purchase-refunded");
        await page.SetViewportSizeAsync(390, 844);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-purchase-refunded-phone");
        await page.SetViewportSizeAsync(1280, 900);

        await page.GetByRole(AriaRole.Link, new() { Name = "Credit packs" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "standard", Exact = true }).ClickAsync();
        await page.GetByLabel("Price").FillAsync("1799");
        await page.GetByLabel("Name (es)").FillAsync("Paquete estándar rebajado");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-pack-edit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        (await page.Locator("[role=status]").TextContentAsync()).ShouldBe("The pack was saved; apps see it at once.");
        (await page.Locator("table.packs").TextContentAsync())!.ShouldContain("1799 USD");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-packs");
        var offered = JsonNode.Parse(await app.Client("es").GetStringAsync("/api/v1/checkout/packs", TestContext.Current.CancellationToken))!["results"]!.AsArray();
        offered.Single(pack => pack!["id"]!.GetValue<string>() == "standard")!["name"]!.GetValue<string>().ShouldBe("Paquete estándar rebajado");
        consoleErrors.ShouldBeEmpty();
    }
}
