using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Playwright;

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

    /// <summary>Where a screenshot artifact goes: <c>TestResults/screenshots/NAME.png</c> at the repository's root.</summary>
    public static string ScreenshotPath(string name)
    {
        var path = Path.Combine(ServerHost.FindRepositoryRoot(), "TestResults", "screenshots", $"{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
