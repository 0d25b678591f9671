using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Health;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Health;

/// <summary>
/// The health page against real servers: every check passes on a healthy deployment, and each dependency stopped or
/// gone makes the page answer 503 naming that check, within the check's timeout.
/// </summary>
public sealed class HealthPageTests(PostgresServer postgres, RedisServer redis, S3Server s3)
{
    private const int TimeoutSeconds = 3;
    private const int WorkerDeadlineSeconds = 2;

    /// <summary>The timeout, plus room for a busy machine to run the request itself; far below a hung dependency's minutes.</summary>
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(TimeoutSeconds + 3);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Every_check_passes_on_a_healthy_deployment_and_the_page_answers_200(DatabaseShape shape)
    {
        var settings = new Dictionary<string, string?>();
        if (shape == DatabaseShape.Postgres)
        {
            settings["ConnectionStrings:Redis"] = redis.ConnectionString;
            foreach (var (key, value) in s3.Settings)
            {
                settings[key] = value;
            }
        }

        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, Short(settings));
        using var response = await app.Client().GetAsync(PathOf(app), Cancel);

        var page = await ReadAsync(response);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, page.ToString());
        response.Headers.CacheControl?.NoStore.ShouldBeTrue();
        page.Status.ShouldBe("healthy");
        page.Checks.Keys.ShouldBe(HealthPage.Checks, ignoreOrder: true);
        foreach (var (name, check) in page.Checks)
        {
            check.Status.ShouldBe("healthy", $"{name}: {check.Description}");
            check.Description.ShouldNotBeNullOrWhiteSpace();
        }

        page.Checks["redis"].Description.ShouldBe(shape == DatabaseShape.Postgres ? "PING answered" : "not configured");
        page.Checks["database"].Description.ShouldBe("a row written and deleted");
        page.Checks["worker"].Description.ShouldStartWith("a worker ran the ping job");
    }

    [Fact]
    public async Task Redis_stopped_makes_the_page_503_naming_redis_within_the_timeout()
    {
        var ownRedis = new RedisServer();
        await ownRedis.InitializeAsync();
        try
        {
            await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres,
                Short(new() { ["ConnectionStrings:Redis"] = ownRedis.ConnectionString }));
            (await GetAsync(app)).Page.Checks["redis"].Status.ShouldBe("healthy");
            await ownRedis.StopAsync();

            var (status, page, elapsed) = await GetAsync(app);

            status.ShouldBe(HttpStatusCode.ServiceUnavailable, page.ToString());
            page.Checks["redis"].Status.ShouldBe("unhealthy");
            page.Checks["redis"].Description.ShouldNotBeNull().ShouldNotContain("127.0.0.1");
            OnlyFailing(page, "redis");
            elapsed.ShouldBeLessThan(Quickly);
        }
        finally
        {
            await ownRedis.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_database_gone_makes_the_page_503_naming_the_database_within_the_timeout()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, Short());
        var connectionString = app.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
        await postgres.DropDatabaseAsync(connectionString);

        var (status, page, elapsed) = await GetAsync(app);

        status.ShouldBe(HttpStatusCode.ServiceUnavailable, page.ToString());
        page.Checks["database"].Status.ShouldBe("unhealthy");
        page.Checks["database"].Description.ShouldNotBeNull().ShouldNotContain("Password");
        page.Checks["database"].Description!.ShouldNotContain(new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!);
        // The jobs live in the same database, so the worker's ping cannot be enqueued either; the others pass.
        page.Checks["storage"].Status.ShouldBe("healthy");
        page.Checks["memory"].Status.ShouldBe("healthy");
        elapsed.ShouldBeLessThan(Quickly);
    }

    [Fact]
    public async Task An_api_process_with_no_worker_is_503_saying_so_until_a_worker_runs()
    {
        var databases = TestDatabases.For(postgres);
        await using var api = await RootApp.StartAsync(databases, DatabaseShape.Postgres, Short(new() { ["Role"] = "api" }));

        var (status, page, elapsed) = await GetAsync(api);

        status.ShouldBe(HttpStatusCode.ServiceUnavailable, page.ToString());
        page.Checks["worker"].Status.ShouldBe("unhealthy");
        page.Checks["worker"].Description.ShouldBe($"no worker processed the ping within {WorkerDeadlineSeconds} s");
        OnlyFailing(page, "worker");
        elapsed.ShouldBeLessThan(Quickly);

        var connectionString = api.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
        await using var worker = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Short(new() { ["Role"] = "worker" }));
        var withWorker = await GetAsync(api);
        withWorker.Status.ShouldBe(HttpStatusCode.OK, withWorker.Page.ToString());
        withWorker.Page.Checks["worker"].Description.ShouldNotBeNull().ShouldStartWith("a worker ran the ping job");

        // The worker serves the page too, on its own port, beside the probes.
        var onWorker = await GetAsync(worker);
        onWorker.Status.ShouldBe(HttpStatusCode.OK, onWorker.Page.ToString());
    }

    [Fact]
    public async Task The_s3_server_stopped_makes_the_page_503_naming_storage_within_the_timeout()
    {
        var ownS3 = new S3Server();
        await ownS3.InitializeAsync();
        var stopped = false;
        try
        {
            await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Short(ownS3.Settings.ToDictionary()));
            (await GetAsync(app)).Page.Checks["storage"].Status.ShouldBe("healthy");
            await ownS3.DisposeAsync();
            stopped = true;

            var (status, page, elapsed) = await GetAsync(app);

            status.ShouldBe(HttpStatusCode.ServiceUnavailable, page.ToString());
            page.Checks["storage"].Status.ShouldBe("unhealthy");
            page.Checks["storage"].Description.ShouldNotBeNull().ShouldNotContain("127.0.0.1");
            OnlyFailing(page, "storage");
            elapsed.ShouldBeLessThan(Quickly);
        }
        finally
        {
            if (!stopped)
            {
                await ownS3.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_unwritable_storage_folder_makes_the_page_503_naming_storage()
    {
        // A regular file where the storage folder should be: nothing, root included, can create files under it.
        var blocker = Path.GetTempFileName();
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            Short(new() { ["Storage:LocalPath"] = Path.Combine(blocker, "files") }));

        var (status, page, _) = await GetAsync(app, "?tags=storage");

        status.ShouldBe(HttpStatusCode.ServiceUnavailable, page.ToString());
        page.Checks["storage"].Status.ShouldBe("unhealthy");
        page.Checks["storage"].Description.ShouldNotBeNull().ShouldNotContain(blocker);
    }

    [Fact]
    public async Task Memory_and_disk_past_their_warning_levels_are_degraded_and_still_200()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Short(new()
        {
            ["Health:MemoryWarningMegabytes"] = "1",
            ["Health:DiskWarningFreeMegabytes"] = "1073741824",
            ["Health:DiskFailureFreeMegabytes"] = "0",
        }));

        var (status, page, _) = await GetAsync(app);

        status.ShouldBe(HttpStatusCode.OK, page.ToString());
        page.Status.ShouldBe("degraded");
        page.Checks["memory"].Status.ShouldBe("degraded");
        page.Checks["disk"].Status.ShouldBe("degraded");
        page.Checks["database"].Status.ShouldBe("healthy");
    }

    [Fact]
    public async Task Memory_and_disk_past_their_failure_levels_make_the_page_503_naming_them()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, Short(new()
        {
            ["Health:MemoryWarningMegabytes"] = "1",
            ["Health:MemoryFailureMegabytes"] = "1",
            ["Health:DiskWarningFreeMegabytes"] = "1073741824",
            ["Health:DiskFailureFreeMegabytes"] = "1073741824",
        }));

        var (status, page, _) = await GetAsync(app);

        status.ShouldBe(HttpStatusCode.ServiceUnavailable, page.ToString());
        page.Checks["memory"].Status.ShouldBe("unhealthy");
        page.Checks["disk"].Status.ShouldBe("unhealthy");
        page.Checks["database"].Status.ShouldBe("healthy");
    }

    [Fact]
    public async Task Tags_select_the_checks_an_unknown_one_is_400_and_the_anonymous_throttle_does_not_apply()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            Short(new() { ["Throttling:Rates:anon:anonymous"] = "2/minute" }));

        for (var request = 0; request < 4; request++)
        {
            var (status, page, _) = await GetAsync(app, "?tags=memory, disk");
            status.ShouldBe(HttpStatusCode.OK, page.ToString());
            page.Checks.Keys.ShouldBe(["memory", "disk"], ignoreOrder: true);
        }

        using var unknown = await app.Client().GetAsync($"{PathOf(app)}?tags=database,frobnicate", Cancel);
        await ErrorAssert.SingleAsync(unknown, HttpStatusCode.BadRequest, "validation_error", "invalid_choice", "tags");
    }

    [Fact]
    public async Task The_embedded_shape_generates_the_path_once_prints_it_and_keeps_it_across_restarts()
    {
        var connectionString = TestDatabases.CreateSqlite("health-path");
        string path;
        await using (var first = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString))
        {
            path = PrintedPath(first);
            path.ShouldMatch("^/health-[A-Za-z0-9_-]{32}$");
            (await GetAsync(first, "?tags=database", path)).Status.ShouldBe(HttpStatusCode.OK);
        }

        var database = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
        (await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(database)!, "health-path-health-path.txt"), Cancel)).Trim().ShouldBe(path);
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Sqlite, connectionString);
        PrintedPath(second).ShouldBe(path);
        (await GetAsync(second, "?tags=database", path)).Status.ShouldBe(HttpStatusCode.OK);
        (await second.Client().GetAsync("/health", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/healthz/live")]
    [InlineData("/healthz/ready")]
    [InlineData("/openapi/v1.json")]
    public async Task The_probes_the_service_index_and_the_api_document_do_not_reveal_the_path(string url)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var response = await app.Client().GetAsync(url, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync(Cancel)).ShouldNotContain(PathOf(app)[1..]);
    }

    [Fact]
    public async Task The_production_shape_without_Health__Path_refuses_to_start_naming_it()
    {
        var smtp = await TestContext.Current.GetFixture<SmtpServer>() ?? throw new InvalidOperationException("The SMTP peer is an assembly fixture.");
        var environment = RootProcess.ProductionEnvironment(
            "Host=127.0.0.1;Port=1;Database=apptork;Username=apptork;Password=f0b1c2d3e4a5", smtp, new Dictionary<string, string?>());
        environment.Remove("Health__Path").ShouldBeTrue("the production environment of the tests sets it");

        var result = await RootProcess.RunAsync([], environment, TimeSpan.FromSeconds(60), RootProcess.ScratchDirectory("apptork-health-"));

        result.ExitCode.ShouldBe(78, result.Output);
        result.Output.ShouldContain("Refusing to start: Health__Path is not set, and the production shape needs it");
    }

    /// <summary>
    /// Short timeouts, so that a failing check is seen quickly, and memory and disk levels that the shared test process
    /// (hundreds of hosts) and machine cannot reach; the settings under test on top.
    /// </summary>
    private static Dictionary<string, string?> Short(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Health:TimeoutSeconds"] = $"{TimeoutSeconds}",
            ["Health:WorkerDeadlineSeconds"] = $"{WorkerDeadlineSeconds}",
            ["Health:MemoryWarningMegabytes"] = "1048576",
            ["Health:MemoryFailureMegabytes"] = "1048576",
            ["Health:DiskWarningFreeMegabytes"] = "0",
            ["Health:DiskFailureFreeMegabytes"] = "0",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return all;
    }

    private static string PathOf(RootApp app) => app.Services.GetRequiredService<HealthPage>().Path;

    private static string PrintedPath(RootApp app)
    {
        var line = app.Logs.Entries.Select(entry => entry.Message).FirstOrDefault(message => message.StartsWith("Health page at /", StringComparison.Ordinal))
            .ShouldNotBeNull("the start-up line that tells the operator where the page is");
        return Regex.Match(line, "^Health page at (/\\S+)").Groups[1].Value;
    }

    private static async Task<(HttpStatusCode Status, Page Page, TimeSpan Elapsed)> GetAsync(RootApp app, string query = "", string? path = null)
    {
        var clock = Stopwatch.StartNew();
        using var response = await app.Client().GetAsync((path ?? PathOf(app)) + query, Cancel);
        var page = await ReadAsync(response);
        return (response.StatusCode, page, clock.Elapsed);
    }

    private static async Task<Page> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Cancel);
        var page = System.Text.Json.JsonSerializer.Deserialize<Page>(text, System.Text.Json.JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException($"Not a health page: {text}");
        return page with { Text = text };
    }

    /// <summary>The named check failed, and every check that does not depend on it passed.</summary>
    private static void OnlyFailing(Page page, string failing)
    {
        foreach (var (name, check) in page.Checks.Where(check => check.Key != failing))
        {
            check.Status.ShouldNotBe("unhealthy", $"{name}: {check.Description}");
        }
    }

    private sealed record Page(string Status, Dictionary<string, Check> Checks)
    {
        [JsonIgnore]
        public string Text { get; init; } = string.Empty;

        public override string ToString() => Text;
    }

    private sealed record Check(string Status, [property: JsonPropertyName("duration_ms")] double DurationMs, string? Description);
}
