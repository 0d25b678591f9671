using System.Diagnostics;
using System.Text.Json;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.OpenApi;

/// <summary>
/// The served OpenAPI document as tools nobody here wrote read it: Redocly's linter, openapi-typescript with the
/// TypeScript compiler, and the /docs reference rendered by Debian's Chromium through Playwright.
/// </summary>
public sealed class ContractToolsTests(ServedContract contract, ITestOutputHelper output) : IClassFixture<ServedContract>
{

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Redocly_recommended_rules_find_no_error_in_the_document()
    {
        var lint = await NodeTool.RunAsync(
            "node_modules/@redocly/cli/bin/cli.js", "lint", "--extends", "recommended", "--format", "json", contract.DocumentPath);
        JsonElement report;
        try
        {
            report = JsonDocument.Parse(lint.Output).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new ShouldAssertException($"Redocly wrote no JSON report (exit code {lint.ExitCode}):\n{lint.Output}\n{lint.Errors}");
        }

        var problems = report.GetProperty("problems").EnumerateArray().Select(problem => (
            Severity: problem.GetProperty("severity").GetString(),
            Text: $"{problem.GetProperty("ruleId").GetString()} at {problem.GetProperty("location")[0].GetProperty("pointer").GetString()}: {problem.GetProperty("message").GetString()}"))
            .ToList();
        foreach (var warning in problems.Where(problem => problem.Severity != "error"))
        {
            output.WriteLine($"Redocly {warning.Severity}: {warning.Text}");
        }

        var errors = problems.Where(problem => problem.Severity == "error").Select(problem => problem.Text).ToList();
        errors.ShouldBeEmpty($"Redocly's recommended rules found errors in /openapi/v1.json:\n{string.Join('\n', errors)}");
        lint.ExitCode.ShouldBe(0, lint.Errors);
    }

    [Fact]
    public async Task Types_generated_by_openapi_typescript_compile_with_an_apps_use_of_them_under_strict_tsc()
    {
        var project = Directory.CreateDirectory(Path.Combine(contract.Directory.FullName, "typescript"));
        var declarations = Path.Combine(project.FullName, "api.d.ts");
        var generation = await NodeTool.RunAsync("node_modules/openapi-typescript/bin/cli.js", contract.DocumentPath, "--output", declarations);
        generation.ExitCode.ShouldBe(0, $"openapi-typescript failed:\n{generation.Output}\n{generation.Errors}");
        (await File.ReadAllTextAsync(declarations, Cancel)).ShouldContain("export interface paths");

        var usage = Path.Combine(project.FullName, "client-usage.ts");
        File.Copy(ServerHost.RequireFile(Path.Combine(NodeTool.Peers, "contract", "client-usage.ts"), "the TypeScript contract check"), usage);
        var compilation = await NodeTool.RunAsync(
            "node_modules/typescript/bin/tsc", "--strict", "--noEmit", "--pretty", "false",
            "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", declarations, usage);
        compilation.ExitCode.ShouldBe(0, $"tsc --strict rejected the generated types or their use:\n{compilation.Output}\n{compilation.Errors}");
    }

    [Fact(Timeout = 180_000)]
    [Long]
    public async Task Docs_render_in_chromium_with_the_tags_in_order_and_short_summaries()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the /docs check");
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        var app = contract.App.Client().BaseAddress!;
        // Only the app answers: the reference must render from what the app serves (Scalar's web fonts stay out, so
        // the page looks the same with or without a network).
        await page.RouteAsync("**/*", route => new Uri(route.Request.Url).Authority == app.Authority ? route.ContinueAsync() : route.AbortAsync());
        // The script bundle is megabytes: on a loaded machine its "load" event may come late, so the navigation waits
        // for the document only and the selector below for the rendering.
        await page.GotoAsync(new Uri(app, "/docs").AbsoluteUri, new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });
        // The reference is a script that renders the document it fetches: its first operation's entry means it has.
        await page.WaitForSelectorAsync("a[href='#tag/auth/POST/api/v1/auth/otp/request']", new() { Timeout = 90_000 });

        var screenshot = HeadlessChromium.ScreenshotPath("docs");
        await page.ScreenshotAsync(new() { Path = screenshot });
        output.WriteLine($"Screenshot of /docs: {screenshot}");

        // Every navigation entry, as [href, label]; the label without the method badge beside it.
        var entries = await page.EvaluateAsync<string[][]>("""
            () => [...document.querySelectorAll("a[href^='#tag/']")].map(link => [
              link.getAttribute("href"),
              [...link.childNodes].filter(node => node.nodeName !== "SPAN").map(node => node.textContent).join("").trim(),
            ])
            """);
        var tags = entries.Where(entry => entry[0].Count(character => character == '/') == 1).Select(entry => entry[1]).ToList();
        tags.ShouldBe(["Auth", "Wallet", "Checkout", "Purchases", "Files", "Generations", "Feature flags", "Messages", "Admin messages", "Webhooks"]);

        var summaries = entries.Where(entry => entry[0].Count(character => character == '/') > 1).Select(entry => entry[1]).ToList();
        summaries.ShouldContain("Request a sign-in code");
        summaries.ShouldContain("Sign in with the code");
        foreach (var summary in summaries)
        {
            summary.Split(' ').Length.ShouldBeLessThanOrEqualTo(6, summary);
            summary.ShouldNotEndWith(".", summary);
        }

        (await File.ReadAllBytesAsync(screenshot, Cancel)).Take(8).ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
    }

    /// <summary>A tool installed from tests/peers/package-lock.json, run by node from tests/peers.</summary>
    private static class NodeTool
    {
        public static string Peers => Path.Combine(ServerHost.FindRepositoryRoot(), "tests", "peers");

        public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string script, params string[] arguments)
        {
            var node = ServerHost.RequireExecutable("node", $"the npm tool {script}");
            var startInfo = new ProcessStartInfo(node)
            {
                WorkingDirectory = Peers,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // Redocly would otherwise report usage to its makers and look for a newer version online.
                Environment = { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" },
            };
            startInfo.ArgumentList.Add(ServerHost.RequireFile(Path.Combine(Peers, script), script));
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }

            using var process = Process.Start(startInfo)!;
            var standardOutput = process.StandardOutput.ReadToEndAsync(Cancel);
            var standardError = process.StandardError.ReadToEndAsync(Cancel);
            await process.WaitForExitAsync(Cancel);
            return (process.ExitCode, await standardOutput, await standardError);
        }
    }
}

/// <summary>One running application and the OpenAPI document it served, written to a file, for a whole test class.</summary>
public sealed class ServedContract(PostgresServer postgres) : IAsyncLifetime
{
    public RootApp App { get; private set; } = null!;

    public DirectoryInfo Directory { get; } = ServerHost.CreateTemporaryDirectory("apptork-contract-");

    public string DocumentPath => Path.Combine(Directory.FullName, "openapi.json");

    public async ValueTask InitializeAsync()
    {
        App = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        await File.WriteAllTextAsync(DocumentPath, await App.Client().GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        ServerHost.DeleteDirectory(Directory);
    }
}
