using Apptork.Root.Admin.Staff;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.FeatureFlags;
using Apptork.Root.Tests.Features.Messages;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// The catalog screens in Debian's Chromium against a real Kestrel host: a superuser creates a flag off, turns it on
/// from the list and an app sees it; writes a message in two languages and an app reads the French one; looks a domain
/// up and blocks it. Each screen is saved under TestResults/screenshots, on a desktop and a phone.
/// </summary>
public sealed class AdminCatalogBrowserTests(ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    [Long]
    public async Task A_superuser_toggles_a_flag_and_the_public_api_follows_then_writes_a_message_and_blocks_a_domain()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-catalog-browser"));
        var baseUrl = app.Client().BaseAddress!.AbsoluteUri.TrimEnd('/');
        var flags = new FlagsClient(app);
        var messages = new MessagesClient(app);
        var appUser = await new AuthClient(app).SignInAsync("player@example.com");
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the catalog screens' browser test");
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

        await page.GotoAsync($"{baseUrl}/admin/sign-in");
        await page.GetByLabel("Email").FillAsync(superuser.Email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(superuser.Password);
        await page.GetByLabel("Authenticator code").FillAsync(superuser.NextCode());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync($"{baseUrl}/admin");

        await page.GetByRole(AriaRole.Link, new() { Name = "Feature flags" }).ClickAsync();
        await page.GetByLabel("Key", new() { Exact = true }).FillAsync("dark_mode");
        await page.GetByLabel("In en").FillAsync("Dark theme");
        await page.GetByLabel("In fr").FillAsync("Thème sombre");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        (await page.Locator("[role=status]").TextContentAsync())!.ShouldContain("The flag was created");
        (await flags.FlagsAsync(appUser.AccessToken))["dark_mode"].ShouldBeFalse();

        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on dark_mode" }).ClickAsync();
        (await page.Locator("#flag-dark_mode .state").TextContentAsync()).ShouldBe("on");
        (await flags.FlagsAsync(appUser.AccessToken))["dark_mode"].ShouldBeTrue();
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-catalog-1-flags");

        await page.GetByRole(AriaRole.Link, new() { Name = "Messages" }).ClickAsync();
        await page.Locator("#message-title-en").FillAsync("Maintenance tonight");
        await page.Locator("#message-body-en").FillAsync("We pause at 2 UTC.");
        await page.Locator("#message-title-fr").FillAsync("Maintenance ce soir");
        await page.Locator("#message-body-fr").FillAsync("Pause à 2 h UTC.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        (await page.Locator("[role=status]").TextContentAsync())!.ShouldContain("The message was created");
        (await messages.TitlesAsync(language: "fr")).ShouldBe(["Maintenance ce soir"]);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-catalog-2-messages");

        await page.GetByRole(AriaRole.Link, new() { Name = "Email domains" }).ClickAsync();
        await page.GetByLabel("Domain or address to check").FillAsync("someone@mailinator.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        (await page.Locator("#domain-decision").TextContentAsync())!.ShouldContain("shipped list");
        await page.GetByLabel("Domain", new() { Exact = true }).FillAsync("spam-corp.example");
        await page.GetByLabel("Note (why)").FillAsync("ticket 42");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add the rule" }).ClickAsync();
        (await page.Locator("#domain-decision").TextContentAsync())!.ShouldContain("an operator blocked spam-corp.example");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-catalog-3-domains");
        await page.SetViewportSizeAsync(390, 844);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-catalog-3-domains-phone");
        await page.GotoAsync($"{baseUrl}/admin/flags");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-catalog-1-flags-phone");

        consoleErrors.ShouldBeEmpty();
    }
}
