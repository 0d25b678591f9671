using System.Diagnostics;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Deploy;

/// <summary>
/// The Compose file against the Compose Specification's JSON schema and every Kubernetes manifest against its API's
/// schema, with tests/peers/validate-deploy.mjs: the check that stands in for `docker compose config` and
/// `kubectl apply --dry-run`, which need an engine and a cluster.
/// </summary>
public sealed class DeploymentSchemaTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_compose_file_and_the_manifests_are_valid_against_their_schemas()
    {
        var manifests = Directory.EnumerateFiles(DeploymentFiles.PathOf("kubernetes"), "*.yaml").Order().ToArray();

        var (exitCode, output) = await ValidateAsync(["--compose", DeploymentFiles.PathOf("docker-compose.yml"), "--kubernetes", .. manifests]);

        exitCode.ShouldBe(0, output);
        output.ShouldContain($"VALID {manifests.Sum(file => DeploymentFiles.Documents("kubernetes", Path.GetFileName(file)).Count) + 1} documents");
    }

    [Fact]
    public async Task A_misspelt_compose_key_and_a_manifest_field_of_the_wrong_type_are_refused()
    {
        var broken = ServerHost.CreateTemporaryDirectory("apptork-deploy-broken-");
        var compose = Path.Combine(broken.FullName, "docker-compose.yml");
        await File.WriteAllTextAsync(compose, DeploymentFiles.Read("docker-compose.yml").Replace("stop_grace_period: 45s", "stop_grace_periods: 45s", StringComparison.Ordinal), Cancel);
        var deployment = Path.Combine(broken.FullName, "api-deployment.yaml");
        await File.WriteAllTextAsync(deployment, DeploymentFiles.Read("kubernetes", "api-deployment.yaml").Replace("containerPort: 8080", "containerPort: http", StringComparison.Ordinal), Cancel);

        var (exitCode, output) = await ValidateAsync(["--compose", compose, "--kubernetes", deployment]);

        exitCode.ShouldBe(1, output);
        output.ShouldContain("stop_grace_periods");
        output.ShouldContain("containerPort must be integer");
        ServerHost.DeleteDirectory(broken);
    }

    private static async Task<(int ExitCode, string Output)> ValidateAsync(string[] arguments)
    {
        var peers = Path.Combine(ServerHost.FindRepositoryRoot(), "tests", "peers");
        var startInfo = new ProcessStartInfo(ServerHost.RequireExecutable("node", "validate-deploy.mjs"))
        {
            WorkingDirectory = peers,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(ServerHost.RequireFile(Path.Combine(peers, "validate-deploy.mjs"), "validate-deploy.mjs"));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync(Cancel);
        var errors = process.StandardError.ReadToEndAsync(Cancel);
        await process.WaitForExitAsync(Cancel);
        return (process.ExitCode, await output + await errors);
    }
}
