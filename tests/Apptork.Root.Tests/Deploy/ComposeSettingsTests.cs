using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Deploy.DeploymentFiles;

namespace Apptork.Root.Tests.Deploy;

/// <summary>
/// The built binary, started with the settings docker-compose.yml gives its containers (the example env file's values,
/// the secrets made as it says), only the addresses of PostgreSQL, Redis, MinIO and the mail catcher moved to the
/// suite's servers: migrate succeeds with them, an api and a worker become ready on the probe paths the Kubernetes manifests use,
/// and the image's healthcheck command tells a live process from a stopped one.
/// </summary>
public sealed class ComposeSettingsTests(PostgresServer postgres, RedisServer redis, S3Server s3, SmtpServer smtp)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Compose_s_settings_migrate_and_start_an_api_and_a_worker_that_the_healthcheck_command_finds_live()
    {
        var services = Map(Compose(), "services");
        var scratch = RootProcess.ScratchDirectory("apptork-compose-");
        var signingKey = System.IO.Path.Combine(scratch, "jwt-signing-key.pem");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            await File.WriteAllTextAsync(signingKey, key.ExportECPrivateKeyPem(), Cancel);
        }

        var variables = ExampleEnvFileFilledIn();
        // The suite's migrated template: the migrate command's own work is ProductionBlockTests'; here its settings.
        var database = await TestDatabases.For(postgres).CreatePostgresAsync("compose_settings");
        Dictionary<string, string> Environment(string service, int port)
        {
            var environment = Map(services, service, "environment")
                .ToDictionary(setting => setting.Key, setting => Interpolate(setting.Value?.ToString() ?? "", variables));
            Move(environment, "ConnectionStrings__Postgres", database);
            Move(environment, "ConnectionStrings__Redis", redis.ConnectionString);
            Move(environment, "Auth__Jwt__SigningKeys__0", signingKey);
            Move(environment, "Email__Smtp__Host", smtp.Host);
            Move(environment, "Email__Smtp__Port", smtp.Port.ToString(CultureInfo.InvariantCulture));
            Move(environment, "Storage__ServiceUrl", s3.ServiceUrl);
            Move(environment, "Storage__Bucket", s3.Bucket);
            Move(environment, "AWS_ACCESS_KEY_ID", s3.AccessKey);
            Move(environment, "AWS_SECRET_ACCESS_KEY", s3.SecretKey);
            // The suite's S3 server, not MinIO, refuses the SDK's trailing checksums.
            environment["Storage__ChecksumMode"] = "WhenRequired";
            // The image's own setting (every container on its port); each process here on a port of its own.
            environment["ASPNETCORE_HTTP_PORTS"] = port.ToString(CultureInfo.InvariantCulture);
            return environment;
        }

        var migrated = await RootProcess.RunAsync([RootCommand.Migrate], Environment("migrate", ServerHost.FreeLoopbackPort()), Patience, scratch);
        migrated.ExitCode.ShouldBe(0, migrated.Output);

        var apiEnvironment = Environment("api", ServerHost.FreeLoopbackPort());
        var workerEnvironment = Environment("worker", ServerHost.FreeLoopbackPort());
        var api = RootProcess.Start([RootCommand.Serve], apiEnvironment, scratch);
        await using var worker = RootProcess.Start([RootCommand.Serve], workerEnvironment, scratch);
        try
        {
            foreach (var (process, environment, role) in new[] { (api, apiEnvironment, "api"), (worker, workerEnvironment, "worker") })
            {
                var container = KubernetesObject("Deployment", $"apptork-{role}");
                var probes = Map(container, "spec", "template", "spec", "containers", 0);
                var url = $"http://127.0.0.1:{environment["ASPNETCORE_HTTP_PORTS"]}";
                await WaitUntilAnsweredAsync(process, url + Text(probes, "readinessProbe", "httpGet", "path"));
                await WaitUntilAnsweredAsync(process, url + Text(probes, "livenessProbe", "httpGet", "path"));
                process.Output.ShouldContain($"role {char.ToUpperInvariant(role[0])}{role[1..]}");

                var healthcheck = await RootProcess.RunAsync([HealthCheckCommand.Name], environment, Patience, scratch);
                healthcheck.ExitCode.ShouldBe(0, healthcheck.Output);
            }
        }
        finally
        {
            await api.DisposeAsync();
        }

        var stopped = await RootProcess.RunAsync([HealthCheckCommand.Name], apiEnvironment, Patience, scratch);
        stopped.ExitCode.ShouldBe(1, stopped.Output);
        stopped.Output.ShouldContain($"Unhealthy: http://127.0.0.1:{apiEnvironment["ASPNETCORE_HTTP_PORTS"]}/healthz/live did not answer");
    }

    /// <summary>.env.example with its empty required values made as its comments say (openssl rand, here in .NET).</summary>
    private static Dictionary<string, string> ExampleEnvFileFilledIn()
    {
        var variables = EnvFile(".env.example");
        variables["POSTGRES_PASSWORD"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        variables["REDIS_PASSWORD"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        variables["MINIO_ROOT_PASSWORD"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        variables["AUTH_SECRET"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        variables["HEALTH_PATH"] = $"/health-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";
        variables.Where(variable => variable.Value.Length == 0 && Regex.IsMatch(Read("docker-compose.yml"), $@"\$\{{{variable.Key}:\?"))
            .ShouldBeEmpty("required by docker-compose.yml and not made here");
        return variables;
    }

    /// <summary>Replaces a setting compose gives (it must give it) with the suite's server.</summary>
    private static void Move(Dictionary<string, string> environment, string setting, string value)
    {
        environment.ShouldContainKey(setting);
        environment[setting] = value;
    }

    private static async Task WaitUntilAnsweredAsync(RootProcess.Running process, string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            process.HasExited.ShouldBeFalse($"The process ended before {url} answered:\n{process.Output}");
            try
            {
                using var response = await client.GetAsync(url, Cancel);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            deadline.Elapsed.ShouldBeLessThan(Patience, $"{url} did not answer 200 in time:\n{process.Output}");
            await Task.Delay(200, Cancel);
        }
    }
}
