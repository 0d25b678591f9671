using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Playwright;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>Debian's Chromium driven by Playwright, headless; never a browser Playwright would download.</summary>
public static class HeadlessChromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>The browser; dispose it, then <paramref name="playwright"/>.</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright, string purpose)
    {
        ServerHost.RequireFile(ExecutablePath, $"{purpose} (Debian's chromium package)");
        return await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ExecutablePath, Headless = true });
    }

    /// <summary>
    /// A full-page screenshot artifact, named in the test's output. Chromium on a loaded machine sometimes fails to
    /// produce the frame in time ("Unable to capture screenshot"): a screenshot is a record, not a check, so it is tried
    /// again after a moment rather than fail the test.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, ITestOutputHelper output, string name)
    {
        var path = ScreenshotPath(name);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await page.ScreenshotAsync(new() { Path = path, FullPage = true });
                output.WriteLine($"Screenshot: {path}");
                return;
            }
            catch (PlaywrightException exception) when (attempt < 3 && exception.Message.Contains("Unable to capture screenshot", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }

    /// <summary>Where a screenshot artifact goes: <c>TestResults/screenshots/NAME.png</c> at the repository's root.</summary>
    public static string ScreenshotPath(string name)
    {
        var path = Path.Combine(ServerHost.FindRepositoryRoot(), "TestResults", "screenshots", $"{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
