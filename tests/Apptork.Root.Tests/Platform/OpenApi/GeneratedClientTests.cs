using System.Diagnostics;
using System.Text.Json.Nodes;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.OpenApi;

/// <summary>
/// An app developer's path through the API: a C# client that Kiota generates from the document the running application
/// serves, driven by the console app in <c>tests/kiota-flow</c>. The client is generated and built on every run, from
/// that run's document, so it cannot drift from the contract as a checked-in copy would: a change that breaks generated
/// clients (a renamed field, a type Kiota cannot map) fails here in the same run, and one they absorb (an integer id
/// that becomes a UUID) needs no edit. That costs one small <c>dotnet build</c> (15 s alone, up to a minute on a busy
/// two-core machine), paid by this one [Long] test and not by every build of the suite.
/// </summary>
public sealed class GeneratedClientTests(PostgresServer postgres)
{
    private const string Email = "kiota.developer@example.com";
    private const string Prompt = "a haiku about generated clients";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 300_000), Long]
    public async Task A_kiota_client_generated_from_the_served_document_signs_in_with_the_mailed_code_and_follows_a_generation()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = new Dictionary<string, string?>(ai.Settings)
        {
            ["Wallet:SignupBonus"] = "3",
            ["Throttling:Rates:user:free"] = "unlimited",
        };
        // The production shape, so the code travels by real mail to the SMTP peer.
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, settings);
        var folder = ServerHost.CreateTemporaryDirectory("apptork-kiota-flow-");
        try
        {
            await BuildFlowAsync(folder.FullName, await app.Client().GetStringAsync("/openapi/v1.json", Cancel));
            var seen = await RunFlowAsync(folder.FullName, app);

            seen["requested"]!["expires_in"]!.GetValue<int>().ShouldBe(600);
            seen["signed_in"]!["token_type"]!.GetValue<string>().ShouldBe("Bearer");
            seen["signed_in"]!["user"]!["email"]!.GetValue<string>().ShouldBe(Email);
            seen["wallet_before"]!["balance"]!.GetValue<long>().ShouldBe(3);
            var created = seen["created"]!;
            (created["status"]!.GetValue<string>(), created["cost"]!.GetValue<long>(), created["prompt"]!.GetValue<string>()).ShouldBe(("queued", 1L, Prompt));
            var generation = seen["generation"]!;
            JsonNode.DeepEquals(generation["id"], created["id"]).ShouldBeTrue($"created {created["id"]}, fetched {generation["id"]}");
            generation["status"]!.GetValue<string>().ShouldBe("succeeded", generation.ToJsonString());
            generation["result_text"]!.GetValue<string>().ShouldBe($"Local answer to: {Prompt}");
            seen["wallet_after"]!["balance"]!.GetValue<long>().ShouldBe(2);

            ai.Calls.ShouldContain(("chat", "local-text", Prompt));
            await new WalletBooks(app).ShouldAddUpAsync(Guid.Parse(seen["signed_in"]!["user"]!["id"]!.GetValue<string>()), 2);
        }
        finally
        {
            ServerHost.DeleteDirectory(folder);
        }
    }

    /// <summary>Generates the client from <paramref name="document"/> into a copy of the console app, and builds it.</summary>
    private static async Task BuildFlowAsync(string folder, string document)
    {
        var root = ServerHost.FindRepositoryRoot();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests", "kiota-flow")))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        var documentPath = Path.Combine(folder, "openapi.json");
        await File.WriteAllTextAsync(documentPath, document, Cancel);
        var clock = Stopwatch.StartNew();
        // From the repository, whose tool manifest pins Kiota.
        var generated = await RunAsync("kiota", root, TimeSpan.FromSeconds(120),
            "kiota", "generate", "--language", "CSharp", "--openapi", documentPath, "--output", Path.Combine(folder, "Client"),
            "--class-name", "ApptorkClient", "--namespace-name", "Apptork.Client", "--exclude-backward-compatible", "--log-level", "Warning");
        var warnings = generated.Split('\n').Where(line => line.Contains("OpenAPI warning", StringComparison.Ordinal)).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"Kiota generated the client in {clock.Elapsed.TotalSeconds:0} s; its warnings about the document ({warnings.Count}):\n{string.Join('\n', warnings)}");
        clock.Restart();
        // No build server outlives the build: one would keep this test's output pipes open.
        await RunAsync("the console app's build", folder, TimeSpan.FromSeconds(180),
            "build", Path.Combine(folder, "KiotaFlow.csproj"), "--output", Path.Combine(folder, "out"), "--disable-build-servers", "-nologo");
        TestContext.Current.TestOutputHelper?.WriteLine($"The console app built in {clock.Elapsed.TotalSeconds:0} s.");
    }

    /// <summary>Runs the console app against <paramref name="app"/>, handing it the code mailed to <see cref="Email"/>, and returns what it saw.</summary>
    private static async Task<JsonObject> RunFlowAsync(string folder, RootApp app)
    {
        using var process = Start(folder, Path.Combine(folder, "out", "KiotaFlow.dll"), app.Client().BaseAddress!.ToString(), Email, Prompt);
        var errors = process.StandardError.ReadToEndAsync(Cancel);
        try
        {
            var first = await process.StandardOutput.ReadLineAsync(Cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Cancel);
            if (first != "awaiting-code")
            {
                throw new ShouldAssertException($"The console app did not ask for the code; it wrote '{first}' and:\n{await errors.WaitAsync(TimeSpan.FromSeconds(30), Cancel)}");
            }

            await process.StandardInput.WriteLineAsync(await new AuthClient(app).LastCodeForAsync(Email));
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync(Cancel).WaitAsync(TimeSpan.FromSeconds(120), Cancel);
            await process.WaitForExitAsync(Cancel);
            process.ExitCode.ShouldBe(0, $"{output}\n{await errors}");
            return JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and returns its output, failing with it on a non-zero exit or a timeout.</summary>
    private static async Task<string> RunAsync(string what, string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var output = new OutputLog();
        using var process = Start(workingDirectory, arguments);
        process.OutputDataReceived += (_, line) => output.Add(line.Data);
        process.ErrorDataReceived += (_, line) => output.Add(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish within {timeout.TotalSeconds:0} s:\n{output}");
        }

        process.ExitCode.ShouldBe(0, $"{what} failed:\n{output}");
        return output.ToString();
    }

    private static Process Start(string workingDirectory, params string[] arguments)
    {
        // The dotnet that runs the tests (dotnet test sets DOTNET_HOST_PATH), else the one on PATH.
        var startInfo = ServerCommand.CreateStartInfo([Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", .. arguments]);
        startInfo.WorkingDirectory = workingDirectory;
        // The test run's own MSBuild settings would steer the child build; Kiota asks the network for updates and telemetry unless offline.
        foreach (var inherited in startInfo.Environment.Keys.Where(key => key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        startInfo.Environment["KIOTA_OFFLINE_ENABLED"] = "true";
        startInfo.Environment["KIOTA_CLI_TELEMETRY_OPTOUT"] = "true";
        startInfo.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(startInfo)!;
    }
}
