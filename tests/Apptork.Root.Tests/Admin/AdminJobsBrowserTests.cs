using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// A superuser in Debian's Chromium: the failed generations list, a retry from the generation's page, and Hangfire's
/// dashboard under the control plane's headers (its script and its antiforgery token at work deleting a failed job).
/// Each screen is saved under TestResults/screenshots.
/// </summary>
public sealed class AdminJobsBrowserTests(ITestOutputHelper output)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 240_000)]
    [Long]
    public async Task A_superuser_retries_a_failed_generation_and_deletes_a_failed_job_in_the_browser()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = AiBehaviour.Fail;
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-jobs-browser"), new Dictionary<string, string?>(ai.Settings)
        {
            ["Generation:MaxAttempts"] = "1",
            ["Throttling:Rates:user:free"] = "unlimited",
        });
        var baseUrl = app.Client().BaseAddress!.AbsoluteUri.TrimEnd('/');
        var signedIn = await new AuthClient(app).SignInAsync("customer@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 5, "grant", LedgerEntryKind.Adjustment);
        var generations = new GenerationClient(app, signedIn.AccessToken);
        var failed = await generations.CreateOkAsync("text", "a poem about queues");
        await generations.WaitAsync(failed.Id, "failed", TimeSpan.FromSeconds(60));
        var job = app.Services.GetRequiredService<IBackgroundJobClient>()
            .Create(Job.FromExpression(() => FailingJob.Run()), new FailedState(new InvalidOperationException("boom")));
        var superuser = await StaffSeed.EnrolledAsync(app, "boss@example.com", StaffRoles.Superuser);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the jobs screens' browser test");
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        // A CSP violation (an inline script or style) or a failed resource is reported on the console as an error.
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add($"{page.Url}: {message.Text}");
            }
        };
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();

        await page.GotoAsync($"{baseUrl}/admin/sign-in");
        await page.GetByLabel("Email").FillAsync(superuser.Email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(superuser.Password);
        await page.GetByLabel("Authenticator code").FillAsync(superuser.NextCode());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync($"{baseUrl}/admin");
        (await page.Locator("#failed-generations").TextContentAsync()).ShouldBe("1");
        (await page.Locator("#failed-jobs").TextContentAsync()).ShouldBe("1");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-1-dashboard");

        await page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Generations" }).ClickAsync();
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-2-failed-generations");
        await page.SetViewportSizeAsync(390, 844);
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-2-failed-generations-phone");
        await page.SetViewportSizeAsync(1280, 900);
        await page.Locator($"a[href$='/admin/generations/{failed.Id}']").ClickAsync();
        (await page.Locator("#generation-refund").TextContentAsync()).ShouldBe("Refunded");
        ai.Behaviour = AiBehaviour.Answer;
        await page.GetByLabel("Reason").First.FillAsync("the provider is back");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry the generation" }).ClickAsync();
        (await page.GetByRole(AriaRole.Status).TextContentAsync()).ShouldBe("The generation is queued again.");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-3-retried");
        (await generations.WaitAsync(failed.Id, "succeeded", TimeSpan.FromSeconds(60))).ResultText.ShouldBe("Local answer to: a poem about queues");

        await page.GotoAsync($"{baseUrl}/admin");
        await page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Background jobs" }).ClickAsync();
        await page.WaitForURLAsync($"{baseUrl}/admin/jobs");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-4-hangfire-overview");
        await page.GotoAsync($"{baseUrl}/admin/jobs/jobs/failed");
        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-5-hangfire-failed");
        await page.Locator($"input.js-jobs-list-checkbox[value='{job}']").CheckAsync();
        await page.Locator("button.js-jobs-list-command[data-url$='/jobs/failed/delete']").ClickAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (StateOf(app, job) != DeletedState.StateName)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the dashboard's delete did not reach the job");
            await Task.Delay(100, Cancel);
        }

        await HeadlessChromium.ScreenshotAsync(page, output, "admin-jobs-6-hangfire-deleted");
        consoleErrors.ShouldBeEmpty();
    }

    private static string? StateOf(RootApp app, string jobId)
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetStateData(jobId)?.Name;
    }
}
