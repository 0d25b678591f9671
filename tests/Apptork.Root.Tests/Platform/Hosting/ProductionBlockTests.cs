using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Hosting;

/// <summary>
/// The deployment block of docs/production.md, run line for line by bash against the suite's own servers: it
/// publishes the binary, makes the secrets with openssl, migrates, and starts an api and a worker. Only host names,
/// ports and secrets are replaced, each exactly once, so the page cannot drift from what starts.
/// </summary>
[Long]
public sealed class ProductionBlockTests(PostgresServer postgres, RedisServer redis, SmtpServer smtp)
{
    // Publishing compiles ReadyToRun code for every assembly: minutes on two busy cores.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(12);

    /// <summary>The project folders that a build or the embedded shape writes, which a publish must not start from.</summary>
    private static readonly string[] BuildOutputs = ["bin", "obj", "data"];

    private static readonly string[] OperatorVariables = ["PATH", "HOME", "DOTNET_ROOT", "NUGET_PACKAGES", "TMPDIR"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 900_000)]
    public async Task The_documented_production_block_publishes_migrates_and_serves_sign_in_as_written()
    {
        var connectionString = await TestDatabases.For(postgres).CreateEmptyPostgresAsync("production-block");
        var apiUrl = RootProcess.FreeLoopbackUrl();
        var workerUrl = RootProcess.FreeLoopbackUrl();
        var script = Substitute(DeploymentBlock(), new Dictionary<string, string>
        {
            ["Host=db.internal;Port=5432;Database=apptork;Username=apptork;Password=change-me"] = connectionString,
            ["redis.internal:6379,password=change-me"] = redis.ConnectionString,
            // The suite's SMTP peer speaks plain text on loopback, as a same-host relay would: no certificate to offer.
            ["Email__Smtp__Host=smtp.example.com Email__Smtp__Port=587"] = $"Email__Smtp__Host={smtp.Host} Email__Smtp__Port={smtp.Port} Email__Smtp__UseTls=false",
            ["sk_live_change-me"] = "sk_test_production_block",
            ["whsec_change-me"] = "whsec_production_block",
            ["Http__PublicBaseUrl=https://api.example.com"] = $"Http__PublicBaseUrl={apiUrl}",
            ["Urls=http://0.0.0.0:8080"] = $"Urls={apiUrl}",
            ["Urls=http://127.0.0.1:8001"] = $"Urls={workerUrl}",
        });

        var deployment = CopySources();
        await using var shell = StartShell(script, deployment);
        await WaitUntilReadyAsync(shell, apiUrl);
        await WaitUntilReadyAsync(shell, workerUrl);

        shell.Output.ShouldContain("Applied ");
        shell.Output.ShouldNotContain("fail:");
        File.Exists(Path.Combine(deployment, "out", "Apptork.Root")).ShouldBeTrue(shell.Output);

        using var api = new HttpClient { BaseAddress = new Uri(apiUrl) };
        var email = $"block-{Guid.NewGuid():N}@example.com";
        using var requested = await api.PostAsJsonAsync("/api/v1/auth/otp/request", new { email }, Cancel);
        requested.StatusCode.ShouldBe(HttpStatusCode.Accepted, await requested.Content.ReadAsStringAsync(Cancel));
        var otpToken = (await requested.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("otp_token").GetString();

        var mail = await smtp.WaitForMessageAsync(received => received.To.Contains(email), TimeSpan.FromSeconds(30));
        mail.FromAddress.ShouldBe("no-reply@example.com", "Email__From as the block sets it");
        var code = Regex.Match(mail.Text.ShouldNotBeNull(), @"\b\d{6}\b").Value;

        using var verified = await api.PostAsJsonAsync("/api/v1/auth/otp/verify", new { otp_token = otpToken, code }, Cancel);
        verified.StatusCode.ShouldBe(HttpStatusCode.OK, await verified.Content.ReadAsStringAsync(Cancel));
        var accessToken = (await verified.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("access_token").GetString();

        using var walletRequest = new HttpRequestMessage(HttpMethod.Get, "/api/v1/wallet");
        walletRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var wallet = await api.SendAsync(walletRequest, Cancel);
        wallet.StatusCode.ShouldBe(HttpStatusCode.OK, await wallet.Content.ReadAsStringAsync(Cancel));

        using var jwks = await api.GetFromJsonAsync<JsonDocument>("/.well-known/jwks.json", Cancel);
        jwks.ShouldNotBeNull().RootElement.GetProperty("keys")[0].GetProperty("crv").GetString()
            .ShouldBe("P-256", "the key the block's openssl line made");
    }

    /// <summary>The first sh block under "## Deploying" in docs/production.md.</summary>
    private static string DeploymentBlock()
    {
        var page = File.ReadAllText(Path.Combine(ServerHost.FindRepositoryRoot(), "docs", "production.md"));
        var section = page[page.IndexOf("## Deploying", StringComparison.Ordinal)..];
        var block = Regex.Match(section, @"```sh\n(?<script>.*?)```", RegexOptions.Singleline);
        block.Success.ShouldBeTrue("docs/production.md has no ```sh block under ## Deploying");
        return block.Groups["script"].Value;
    }

    private static string Substitute(string script, IReadOnlyDictionary<string, string> replacements)
    {
        foreach (var (written, replacement) in replacements)
        {
            Regex.Count(script, Regex.Escape(written)).ShouldBe(1, $"docs/production.md's block should contain '{written}' once");
            script = script.Replace(written, replacement, StringComparison.Ordinal);
        }

        return script;
    }

    /// <summary>
    /// A copy of what the block publishes (the project and the repository's build settings), so publishing for a
    /// runtime identifier never rewrites the restore state of the checkout the suite was built from.
    /// </summary>
    private static string CopySources()
    {
        var repository = ServerHost.FindRepositoryRoot();
        var copy = RootProcess.ScratchDirectory("production-block-");
        foreach (var file in Directory.EnumerateFiles(repository))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var project = Path.Combine(repository, "src", "Apptork.Root");
        var skipped = BuildOutputs.Select(name => Path.Combine(project, name) + Path.DirectorySeparatorChar).ToList();
        foreach (var file in Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories))
        {
            if (skipped.Any(folder => file.StartsWith(folder, StringComparison.Ordinal)))
            {
                continue;
            }

            var target = Path.Combine(copy, Path.GetRelativePath(repository, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    private static async Task WaitUntilReadyAsync(RootProcess.Running shell, string url)
    {
        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            shell.HasExited.ShouldBeFalse($"The block ended before {url} was ready:\n{shell.Output}");
            try
            {
                using var ready = await client.GetAsync("/healthz/ready", Cancel);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!Cancel.IsCancellationRequested)
            {
            }

            deadline.Elapsed.ShouldBeLessThan(Patience, $"{url}/healthz/ready did not answer 200 in time:\n{shell.Output}");
            await Task.Delay(500, Cancel);
        }
    }

    /// <summary>bash running the block with a clean environment of the operator's kind: no test runner or MSBuild settings.</summary>
    private static RootProcess.Running StartShell(string script, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script])
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.Environment.Clear();
        foreach (var name in OperatorVariables)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                startInfo.Environment[name] = value;
            }
        }

        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["NO_COLOR"] = "1";
        return new RootProcess.Running(startInfo);
    }
}
