using System.Text.RegularExpressions;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// The operator's first day in Debian's Chromium against the real binary's verb and a real Kestrel host: create-admin's
/// link, enrolment (password, QR code, first code, recovery codes), sign-in with password and code, the dashboard,
/// an invitation, the audit log, sign-out. Each screen is saved under TestResults/screenshots.
/// </summary>
public sealed partial class AdminBrowserTests(ITestOutputHelper output)
{
    private const string Password = "a long operator passphrase";

    [Fact(Timeout = 240_000)]
    [Long]
    public async Task An_operator_enrols_from_the_command_line_link_signs_in_with_a_code_and_sees_the_dashboard()
    {
        var connectionString = TestDatabases.CreateSqlite("admin-browser");
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString);
        var baseUrl = app.Client().BaseAddress!.AbsoluteUri.TrimEnd('/');
        var buyer = (await new AuthClient(app).SignInAsync("buyer@example.com")).User.Id;
        await new WalletBooks(app).PostAsync(buyer, 120, "purchase-1", LedgerEntryKind.Purchase);
        await new WalletBooks(app).PostAsync(buyer, -5, "generation-1", LedgerEntryKind.Generation);

        var created = await RootProcess.RunAsync(
            ["create-admin", "boss@example.com"],
            new Dictionary<string, string> { ["Database__Provider"] = "Sqlite", ["ConnectionStrings__Sqlite"] = connectionString, ["Http__PublicBaseUrl"] = baseUrl },
            TimeSpan.FromSeconds(90),
            RootProcess.ScratchDirectory("apptork-create-admin-"));
        created.ExitCode.ShouldBe(0, created.Output);
        var link = EnrolmentLink().Match(created.Output).Groups[1].Value;
        link.ShouldStartWith($"{baseUrl}/admin/enrol?token=", customMessage: created.Output);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the control plane's browser test");
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        // A CSP violation (an inline script or style) or a failed resource is reported on the console as an error.
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        await page.GotoAsync(link);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-1-enrol-password");
        await page.GetByLabel("New password").FillAsync(Password);
        await page.GetByLabel("Repeat the password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();

        var secret = (await page.Locator("#totp-secret").TextContentAsync())!.Trim();
        (await page.GetByAltText("QR code of your authenticator secret").GetAttributeAsync("src"))!.ShouldStartWith("data:image/png;base64,");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-2-enrol-qr-code");
        await page.GetByLabel("Authenticator code").FillAsync(StaffSeed.Code(secret, DateTime.UtcNow));
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();

        var recoveryCodes = await page.Locator(".recovery-codes li").AllTextContentsAsync();
        recoveryCodes.Count.ShouldBe(10);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-3-recovery-codes");
        // The link is spent.
        var reused = await context.NewPageAsync();
        await reused.GotoAsync(link);
        (await reused.Locator("[role=alert]").TextContentAsync())!.ShouldContain("not valid");
        await reused.CloseAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Go to sign-in" }).ClickAsync();
        await page.GetByLabel("Email").FillAsync("boss@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        // The next step's code: the enrolment spent this step's, and a code signs in once.
        await page.GetByLabel("Authenticator code").FillAsync(StaffSeed.Code(secret, DateTime.UtcNow.AddSeconds(30)));
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-4-sign-in");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await page.WaitForURLAsync($"{baseUrl}/admin");
        (await page.Locator("#users").TextContentAsync()).ShouldBe("1");
        (await page.Locator("#sign-ups").TextContentAsync()).ShouldBe("1");
        (await page.Locator("#credits-sold").TextContentAsync()).ShouldBe("120");
        (await page.Locator("#credits-spent").TextContentAsync()).ShouldBe("5");
        (await page.Locator("#generations-failed").TextContentAsync()).ShouldBe("0");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-5-dashboard");
        await page.SetViewportSizeAsync(390, 844);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-5-dashboard-phone");
        await page.SetViewportSizeAsync(1280, 900);

        await page.GetByRole(AriaRole.Link, new() { Name = "Staff" }).ClickAsync();
        await page.Locator("#invite-email").FillAsync("helper@example.com");
        await page.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("support");
        await page.GetByRole(AriaRole.Button, new() { Name = "Invite" }).ClickAsync();
        (await page.Locator("#invite-link").TextContentAsync())!.ShouldStartWith($"{baseUrl}/admin/enrol?token=");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-6-staff");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        var actions = await page.Locator("td.action").AllTextContentsAsync();
        actions.ShouldBe(["staff.invited", "sign_in.succeeded", "staff.enrolled", "staff.created"]);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-7-audit-log");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync($"{baseUrl}/admin/sign-in");
        await page.GotoAsync($"{baseUrl}/admin");
        page.Url.ShouldStartWith($"{baseUrl}/admin/sign-in");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-8-signed-out");
        consoleErrors.ShouldBeEmpty();
    }


    [GeneratedRegex(@"Enrolment link \(one use, valid \d+ h\): (\S+)")]
    private static partial Regex EnrolmentLink();
}
