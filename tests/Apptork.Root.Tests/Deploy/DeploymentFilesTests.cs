using System.Globalization;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Health;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Tests.Infrastructure.Categories;
using Microsoft.Extensions.Configuration;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Deploy.DeploymentFiles;

namespace Apptork.Root.Tests.Deploy;

/// <summary>
/// deploy/ agrees with the application and with itself: what no container engine here can show by running it. The
/// files' syntax against the published schemas is <see cref="DeploymentSchemaTests"/>'s; starting the binary with the
/// Compose file's settings is <see cref="ComposeSettingsTests"/>'s.
/// </summary>
[Fast]
public sealed partial class DeploymentFilesTests
{
    private static readonly string[] AppServices = ["migrate", "api", "worker"];

    [Fact]
    public void The_image_publishes_as_production_does_and_runs_unprivileged_with_a_healthcheck_on_the_live_probe()
    {
        var dockerfile = Read("Dockerfile");
        var stages = FromLine().Matches(dockerfile);
        stages.Count.ShouldBe(2, "a build stage and a runtime stage");
        stages[0].Groups["image"].Value.ShouldStartWith("mcr.microsoft.com/dotnet/sdk:10.0");
        stages[1].Groups["image"].Value.ShouldStartWith("mcr.microsoft.com/dotnet/aspnet:10.0-");
        stages[1].Groups["image"].Value.ShouldContain("chiseled");

        var publish = Instruction(dockerfile, "RUN").Single(run => run.Contains("dotnet publish", StringComparison.Ordinal));
        publish.ShouldContain("-c Release");
        publish.ShouldContain("-r linux-x64");
        publish.ShouldContain("--self-contained false");
        dockerfile.ShouldContain("COPY --from=build");

        var runtime = dockerfile[stages[1].Index..];
        var user = Instruction(runtime, "USER").Single().Split(':')[0];
        int.Parse(user, CultureInfo.InvariantCulture).ShouldBeGreaterThan(0, "a numeric non-root user, which Kubernetes can verify");
        Instruction(runtime, "HEALTHCHECK").Single().ShouldEndWith($"CMD [\"/app/Apptork.Root\", \"{HealthCheckCommand.Name}\"]");
        Instruction(runtime, "ENTRYPOINT").Single().ShouldBe("[\"/app/Apptork.Root\"]");
        Instruction(runtime, "EXPOSE").Single().ShouldBe(ImagePort().ToString(CultureInfo.InvariantCulture));

        var ignored = File.ReadAllLines(System.IO.Path.Combine(Folder, "..", ".dockerignore"));
        ignored.ShouldContain("**/bin/");
        ignored.ShouldContain("**/obj/");
        ignored.ShouldContain(".git/");
    }

    [Fact]
    public void Compose_runs_migrate_once_before_the_api_and_the_workers_and_gives_them_time_to_stop()
    {
        var services = Map(Compose(), "services");
        services.Keys.ShouldBe(["postgres", "redis", "minio", "minio-bucket", "mailpit", "migrate", "api", "worker", "proxy"], ignoreOrder: true);
        foreach (var dependency in new[] { "postgres", "redis", "minio" })
        {
            At(services, dependency, "healthcheck", "test").ShouldNotBeNull($"{dependency} has a healthcheck, which the others wait on");
        }

        List(services, "migrate", "command").ShouldBe(["migrate"]);
        Text(services, "migrate", "restart").ShouldBe("no");
        Text(services, "migrate", "depends_on", "postgres", "condition").ShouldBe("service_healthy");
        foreach (var role in new[] { "api", "worker" })
        {
            Text(services, role, "environment", "Role").ShouldBe(role);
            Text(services, role, "depends_on", "migrate", "condition").ShouldBe("service_completed_successfully");
            Text(services, role, "depends_on", "minio-bucket", "condition").ShouldBe("service_completed_successfully");
            Text(services, role, "depends_on", "redis", "condition").ShouldBe("service_healthy");
            List(services, role, "healthcheck", "test").ShouldBe(["CMD", "/app/Apptork.Root", HealthCheckCommand.Name]);
            Text(services, role, "restart").ShouldBe("unless-stopped");
        }

        Seconds(Text(services, "api", "stop_grace_period")).ShouldBeGreaterThanOrEqualTo(45);
        var jobsShutdown = int.Parse(Text(services, "worker", "environment", "Jobs__ShutdownTimeoutSeconds")!, CultureInfo.InvariantCulture);
        // A worker stops within its jobs' timeout plus 10 s (handing jobs back, the rest); 5 s more to spare.
        Seconds(Text(services, "worker", "stop_grace_period")).ShouldBeGreaterThanOrEqualTo(jobsShutdown + 15);
        Text(services, "proxy", "depends_on", "api", "condition").ShouldBe("service_healthy");
        var proxyAddress = Text(services, "proxy", "networks", "apptork", "ipv4_address");
        Text(services, "api", "environment", "ForwardedHeaders__KnownProxies__0").ShouldBe(proxyAddress, "the proxy is the one believed");
        Read("nginx.conf").ShouldContain($"server api:{ImagePort()}");
    }

    [Fact]
    public void Every_variable_compose_reads_is_documented_in_the_example_env_file_and_every_one_there_is_read()
    {
        var example = EnvFile(".env.example");
        var read = ComposeVariables(Read("docker-compose.yml")).Select(variable => variable.Groups["name"].Value).ToHashSet();
        read.Except(example.Keys).ShouldBeEmpty("read by docker-compose.yml, missing from .env.example");
        example.Keys.Except(read).ShouldBeEmpty("in .env.example, read by nothing");
        File.ReadAllText(System.IO.Path.Combine(Folder, "..", ".gitignore")).ShouldContain("deploy/.env");
    }

    [Fact]
    public void Every_setting_compose_and_the_manifests_set_is_one_the_application_reads()
    {
        var services = Map(Compose(), "services");
        var names = AppServices.SelectMany(service => Map(services, service, "environment").Keys)
            .Concat(Map(KubernetesObject("ConfigMap", "apptork-settings"), "data").Keys)
            .Concat(KubernetesObjects().SelectMany(Containers).SelectMany(container => At(container, "env") is List<object?> env ? env : [])
                .Select(variable => Text(variable, "name")!))
            .Distinct()
            .ToList();
        names.Count.ShouldBeGreaterThan(20);
        names.Where(name => !IsSetting(name)).ShouldBeEmpty("not a setting of the application");
        IsSetting("Email__Smtp__Hots").ShouldBeFalse("the check itself tells a misspelt setting");
    }

    [Fact]
    public void The_deployments_probe_the_application_s_own_health_paths_on_the_image_s_port_as_a_non_root_read_only_container()
    {
        foreach (var (role, grace) in new[] { ("api", 45), ("worker", 45) })
        {
            var deployment = KubernetesObject("Deployment", $"apptork-{role}");
            var pod = Map(deployment, "spec", "template", "spec");
            var container = Containers(deployment).Single();
            Text(container, "image").ShouldBe("apptork-root:local", "the name kustomization.yaml's images entry rewrites");
            List(container, "args").ShouldBe(["serve"]);
            var roleVariable = List(container, "env").Single(variable => Text(variable, "name") == "Role");
            Text(roleVariable, "value").ShouldBe(role);
            Text(container, "livenessProbe", "httpGet", "path").ShouldBe(HealthEndpoints.LivePath);
            Text(container, "readinessProbe", "httpGet", "path").ShouldBe(HealthEndpoints.ReadyPath);
            Text(container, "startupProbe", "httpGet", "path").ShouldBe(HealthEndpoints.LivePath);
            var port = List(container, "ports").Single();
            Text(port, "containerPort").ShouldBe(ImagePort().ToString(CultureInfo.InvariantCulture));
            Text(container, "livenessProbe", "httpGet", "port").ShouldBe(Text(port, "name"));
            Text(container, "readinessProbe", "httpGet", "port").ShouldBe(Text(port, "name"));

            Text(pod, "securityContext", "runAsNonRoot").ShouldBe("true");
            Text(pod, "securityContext", "runAsUser").ShouldBe(Instruction(Read("Dockerfile"), "USER").Single().Split(':')[0]);
            Text(container, "securityContext", "readOnlyRootFilesystem").ShouldBe("true");
            Text(container, "securityContext", "allowPrivilegeEscalation").ShouldBe("false");
            List(container, "volumeMounts").Select(mount => Text(mount, "mountPath")).ShouldContain("/tmp");
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Text(container, "resources", "requests", resource).ShouldNotBeNull();
                Text(container, "resources", "limits", resource).ShouldNotBeNull();
            }

            Text(pod, "terminationGracePeriodSeconds").ShouldBe(grace.ToString(CultureInfo.InvariantCulture));
        }

        var jobsShutdown = int.Parse(Text(KubernetesObject("ConfigMap", "apptork-settings"), "data", "Jobs__ShutdownTimeoutSeconds")!, CultureInfo.InvariantCulture);
        jobsShutdown.ShouldBeLessThanOrEqualTo(45 - 15, "a worker's grace covers its jobs' shutdown timeout, the hand-back and a margin");
    }

    [Fact]
    public void The_manifests_reference_one_another_by_the_names_and_labels_they_carry()
    {
        var api = KubernetesObject("Deployment", "apptork-api");
        var apiLabels = Map(api, "spec", "template", "metadata", "labels");
        At(api, "spec", "replicas").ShouldBeNull("the autoscaler owns the api's replica count");

        var service = KubernetesObject("Service", "apptork-api");
        Map(service, "spec", "selector").ShouldBe(apiLabels);
        Text(service, "spec", "ports", 0, "targetPort").ShouldBe(Text(Containers(api).Single(), "ports", 0, "name"));

        var autoscaler = KubernetesObject("HorizontalPodAutoscaler", "apptork-api");
        Text(autoscaler, "apiVersion").ShouldBe("autoscaling/v2");
        Text(autoscaler, "spec", "scaleTargetRef", "kind").ShouldBe("Deployment");
        Text(autoscaler, "spec", "scaleTargetRef", "name").ShouldBe("apptork-api");

        foreach (var role in new[] { "api", "worker" })
        {
            var labels = Map(KubernetesObject("Deployment", $"apptork-{role}"), "spec", "template", "metadata", "labels");
            Map(KubernetesObject("PodDisruptionBudget", $"apptork-{role}"), "spec", "selector", "matchLabels").ShouldBe(labels);
        }

        var migrate = KubernetesObject("Job", "apptork-migrate");
        List(Containers(migrate).Single(), "args").ShouldBe([RootCommand.Migrate]);

        var secretKeys = Map(KubernetesObject("Secret", "apptork-secrets"), "stringData").Keys;
        var referenced = KubernetesObjects().SelectMany(Containers)
            .SelectMany(container => At(container, "env") is List<object?> env ? env : [])
            .Select(variable => At(variable, "valueFrom", "secretKeyRef"))
            .OfType<Dictionary<string, object?>>()
            .ToList();
        referenced.ShouldNotBeEmpty();
        referenced.ShouldAllBe(reference => Text(reference, "name") == "apptork-secrets");
        referenced.Select(reference => Text(reference, "key")).Except(secretKeys).ShouldBeEmpty("keys the example Secret lacks");
        var mountedKey = Text(api, "spec", "template", "spec", "volumes", 0, "secret", "items", 0, "key");
        secretKeys.ShouldContain(mountedKey);

        var kustomization = Documents("kubernetes", "kustomization.yaml").Single();
        var resources = List(kustomization, "resources").Cast<string>().ToList();
        var manifests = Directory.EnumerateFiles(PathOf("kubernetes"), "*.yaml").Select(file => System.IO.Path.GetFileName(file)).ToList();
        resources.Except(manifests).ShouldBeEmpty("listed in kustomization.yaml but missing");
        manifests.Except(resources).ShouldBe(["kustomization.yaml", "secret.example.yaml"], ignoreOrder: true, "the Secret is the operator's, with real values");
    }

    [Fact]
    public void The_healthcheck_command_finds_the_live_probe_where_the_process_beside_it_listens()
    {
        LiveUrl(new() { ["http_ports"] = "8080" }).ShouldBe("http://127.0.0.1:8080/healthz/live");
        LiveUrl(new() { ["Urls"] = "http://0.0.0.0:9000;http://10.1.2.3:9001" }).ShouldBe("http://127.0.0.1:9000/healthz/live");
        LiveUrl(new() { ["Urls"] = "http://+:9000", ["http_ports"] = "8080" }).ShouldBe("http://127.0.0.1:9000/healthz/live");
        LiveUrl(new() { ["Urls"] = "http://[::]:9000" }).ShouldBe("http://127.0.0.1:9000/healthz/live");
        LiveUrl(new() { ["Urls"] = "http://127.0.0.2:9000" }).ShouldBe("http://127.0.0.2:9000/healthz/live");
        LiveUrl(new() { ["Role"] = "worker" }).ShouldBe("http://127.0.0.1:8001/healthz/live");
        LiveUrl([]).ShouldBe("http://127.0.0.1:8000/healthz/live");
    }

    private static string LiveUrl(Dictionary<string, string?> settings) =>
        HealthCheckCommand.LiveUrl(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).ToString();

    /// <summary>The port the image's processes listen on (its ASPNETCORE_HTTP_PORTS).</summary>
    private static int ImagePort() =>
        int.Parse(Regex.Match(Read("Dockerfile"), @"^ENV ASPNETCORE_HTTP_PORTS=(\d+)$", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);

    private static IEnumerable<Dictionary<string, object?>> Containers(Dictionary<string, object?> manifest) =>
        (At(manifest, "spec", "template", "spec", "containers") as List<object?> ?? []).Cast<Dictionary<string, object?>>();

    /// <summary>The arguments of each instruction of this kind, continuation lines joined.</summary>
    private static List<string> Instruction(string dockerfile, string keyword) =>
        Regex.Replace(dockerfile, @"\\\n\s*", " ").Split('\n')
            .Where(line => line.StartsWith(keyword + " ", StringComparison.Ordinal))
            .Select(line => line[(keyword.Length + 1)..].Trim())
            .ToList();

    private static int Seconds(string? duration)
    {
        var match = Regex.Match(duration ?? "", @"^(\d+)s$");
        match.Success.ShouldBeTrue($"'{duration}' is a duration in seconds");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^FROM (?<image>\S+) AS (?<stage>\S+)$", RegexOptions.Multiline)]
    private static partial Regex FromLine();
}
