using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// A wallet adjusted in Debian's Chromium as an operator does it, then found in the ledger, in the audit log and in the
/// ledger's CSV download. Each screen is saved under TestResults/screenshots.
/// </summary>
public sealed class AdminWalletBrowserTests(ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    [Long]
    public async Task An_operator_adjusts_a_wallet_with_a_reason_and_finds_it_in_the_ledger_the_audit_log_and_the_csv()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-wallet-browser"));
        var baseUrl = app.Client().BaseAddress!.AbsoluteUri.TrimEnd('/');
        var customer = await new AuthClient(app).SignInAsync("customer@example.com");
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the wallet screen's browser test");
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 }, AcceptDownloads = true });
        var page = await context.NewPageAsync();
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

        await page.GetByRole(AriaRole.Link, new() { Name = "Wallets", Exact = true }).ClickAsync();
        await page.GetByLabel("User id or email").FillAsync("customer@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        (await page.Locator("#wallet-balance").TextContentAsync()).ShouldBe("0");
        await page.GetByLabel("Credits (negative to take)").FillAsync("25");
        await page.GetByLabel("Reason").FillAsync("goodwill after an outage");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-wallet-adjust");
        await page.GetByRole(AriaRole.Button, new() { Name = "Adjust" }).ClickAsync();
        (await page.Locator("[role=status]").TextContentAsync()).ShouldBe("The balance was adjusted.");
        (await page.Locator("#wallet-balance").TextContentAsync()).ShouldBe("25");

        await page.GetByRole(AriaRole.Link, new() { Name = "Ledger", Exact = true }).ClickAsync();
        await page.GetByLabel("User (id or email)").FillAsync("customer@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var row = page.Locator("table.ledger tbody tr");
        (await row.CountAsync()).ShouldBe(1);
        var cells = await row.Locator("td").AllTextContentsAsync();
        (cells[2], cells[3], cells[4], cells[5], cells[7], cells[8]).ShouldBe(("adjustment", "25", "", "25", "boss@example.com", "goodwill after an outage"));
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-ledger");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download CSV" }).ClickAsync());
        download.SuggestedFilename.ShouldStartWith("ledger-");
        download.SuggestedFilename.ShouldEndWith(".csv");
        var csv = await File.ReadAllLinesAsync((await download.PathAsync())!, TestContext.Current.CancellationToken);
        csv.Length.ShouldBe(2, string.Join('\n', csv));
        csv[1].ShouldContain(customer.User.Id.ToString());
        csv[1].ShouldContain("goodwill after an outage");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        var actions = await page.Locator("td.action").AllTextContentsAsync();
        actions.Take(2).ShouldBe([AdminActions.LedgerExported, AdminActions.WalletAdjusted]);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-audit-after-adjustment");
        consoleErrors.ShouldBeEmpty();
    }
}
