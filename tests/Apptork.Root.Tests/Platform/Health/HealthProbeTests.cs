using System.Net;
using System.Net.Http.Json;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Health;

public sealed class HealthProbeTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Live_and_ready_answer_200_with_the_database_check(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var client = app.Client();
        using var live = await client.GetAsync("/healthz/live", Cancel);
        live.StatusCode.ShouldBe(HttpStatusCode.OK);
        var ready = await client.GetFromJsonAsync<Probe>("/healthz/ready", Cancel);
        ready!.Status.ShouldBe("healthy");
        ready.Checks["database"].Status.ShouldBe("healthy");
    }

    [Fact]
    public async Task Ready_is_503_when_the_database_is_gone()
    {
        var databases = TestDatabases.For(postgres);
        await using var app = await RootApp.StartAsync(databases, DatabaseShape.Postgres);
        var connectionString = app.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
        await postgres.DropDatabaseAsync(connectionString);

        using var response = await app.Client().GetAsync("/healthz/ready", Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var probe = await response.Content.ReadFromJsonAsync<Probe>(Cancel);
        probe!.Checks["database"].Status.ShouldBe("unhealthy");
        probe.Checks["database"].Description.ShouldNotBeNull().ShouldNotContain("Password");
    }

    [Fact]
    public async Task A_worker_process_answers_probes_but_serves_no_api()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            new Dictionary<string, string?> { ["Role"] = "worker" });
        var client = app.Client();
        (await client.GetAsync("/healthz/ready", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var openApi = await client.GetAsync("/openapi/v1.json", Cancel);
        await ErrorAssert.SingleAsync(openApi, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    [Fact]
    public async Task Cors_allows_only_the_configured_origins()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = "https://app.example.com" });
        var client = app.Client();
        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/healthz/live");
        allowed.Headers.Add("Origin", "https://app.example.com");
        using var allowedResponse = await client.SendAsync(allowed, Cancel);
        allowedResponse.Headers.GetValues("Access-Control-Allow-Origin").ShouldBe(["https://app.example.com"]);

        using var other = new HttpRequestMessage(HttpMethod.Get, "/healthz/live");
        other.Headers.Add("Origin", "https://evil.example.net");
        using var otherResponse = await client.SendAsync(other, Cancel);
        otherResponse.Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse();
    }

    private sealed record Probe(string Status, Dictionary<string, Check> Checks);

    private sealed record Check(string Status, string? Description);
}
