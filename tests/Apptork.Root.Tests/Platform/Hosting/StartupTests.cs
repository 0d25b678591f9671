using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Hosting;

/// <summary>The real binary, started as an operator would: the embedded shape needs nothing; bad settings stop it with a sentence naming the setting.</summary>
public sealed class StartupTests(PostgresServer postgres)
{
    private const int ConfigurationExitCode = 78;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("Database__Provider", "Mysql", "Database__Provider is 'Mysql'")]
    [InlineData("Role", "cron", "Role is 'cron'")]
    [InlineData("Database__Provider", "1", "Database__Provider is '1'")]
    [InlineData("Http__MaxRequestBodyBytes", "10", "Http__MaxRequestBodyBytes")]
    [InlineData("Http__MaxRequestBodyBytes", "abc", "Http__MaxRequestBodyBytes is 'abc'")]
    [InlineData("Throttling__Rates__otp__email", "lots", "Throttling__Rates__otp__email is 'lots', not a rate")]
    [InlineData("ForwardedHeaders__KnownNetworks__0", "10.0.0.0/33", "ForwardedHeaders__KnownNetworks__0 is '10.0.0.0/33', not a network")]
    [InlineData("ConnectionStrings__Redis", "redis:6379,frobnicate=1", "ConnectionStrings__Redis is not a valid Redis connection string")]
    [InlineData("Jobs__Storage", "Redis", "Jobs__Storage is 'Redis', which is not one of Sqlite, Postgres.")]
    [InlineData("Storage__Provider", "Azure", "Storage__Provider is 'Azure', which is not one of Local, S3.")]
    [InlineData("Storage__Provider", "S3", "Storage__Bucket is required when Storage__Provider=S3.")]
    [InlineData("Payments__Provider", "Paypal", "Payments__Provider is 'Paypal', which is not one of None, Development, Stripe.")]
    [InlineData("Http__PublicBaseUrl", "api.example.com", "Http__PublicBaseUrl is 'api.example.com', not an absolute http(s) URL")]
    [InlineData("Ai__Provider", "OpenAI", "Ai__ApiKey is required when Ai__Provider=OpenAI.")]
    [InlineData("DataProtection__CertificatePath", "missing.pfx", "could not be read as a PKCS#12 (.pfx) file")]
    public async Task A_bad_setting_stops_the_process_naming_the_setting(string setting, string value, string expected)
    {
        var result = await RootProcess.RunAsync([], Settings((setting, value)), Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain("Refusing to start");
        result.Output.ShouldContain(expected);
    }

    [Fact]
    public async Task Production_shape_without_a_connection_string_names_it()
    {
        var result = await RootProcess.RunAsync([], Settings(("Database__Provider", "Postgres")), Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain("ConnectionStrings__Postgres is required");
    }

    [Theory]
    [InlineData("Host=db;Database=apptork;Username=apptork;Password=postgres", "ConnectionStrings__Postgres uses a well-known default password")]
    [InlineData("Host=db;Database=apptork;Username=apptork;Password=ChangeMe", "ConnectionStrings__Postgres uses a well-known default password")]
    [InlineData("Host=db;Nonsense Key=1", "ConnectionStrings__Postgres is not a valid PostgreSQL connection string")]
    public async Task Production_shape_refuses_an_insecure_or_broken_connection_string(string connectionString, string expected)
    {
        var result = await RootProcess.RunAsync([], Production(("ConnectionStrings__Postgres", connectionString)), Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain(expected);
        result.Output.ShouldNotContain("ChangeMe");
    }

    [Fact]
    public async Task Production_shape_refuses_an_unmigrated_database_and_says_to_migrate()
    {
        var empty = await TestDatabases.For(postgres).CreateEmptyPostgresAsync("unmigrated");
        var result = await RootProcess.RunAsync([], Production(("ConnectionStrings__Postgres", empty), ("Urls", FreeUrl())), Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain("run `Apptork.Root migrate`");
        result.Output.ShouldNotContain("fail:");
    }

    [Fact]
    public async Task An_address_already_in_use_is_refused_naming_Urls_without_a_stack_trace()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)occupant.LocalEndpoint).Port}";
        var result = await RootProcess.RunAsync([], Settings(("Urls", url)), Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain($"Refusing to start: Urls is {url}, which another process on this host is already listening on");
        result.Output.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task Started_from_another_folder_the_binary_still_reads_the_appsettings_json_beside_it()
    {
        // appsettings.json keeps EF Core's per-statement log below Information; without it every statement is logged.
        var result = await RootProcess.RunAsync(["migrate"], Settings(), Patience, Scratch());
        result.ExitCode.ShouldBe(0, result.Output);
        result.Output.ShouldNotContain("Executed DbCommand");
    }

    [Fact]
    public async Task Migrate_on_an_empty_postgres_database_reports_each_migration_and_no_failure()
    {
        var empty = await TestDatabases.For(postgres).CreateEmptyPostgresAsync("migrate-output");
        var result = await TestDatabases.MigrateWithCommandAsync(empty);
        TestContext.Current.TestOutputHelper?.WriteLine(result.Output);
        result.Output.ShouldNotContain("fail:");
        foreach (var migration in MigrationNames())
        {
            result.Output.ShouldContain($"Applied {migration}");
        }
    }

    [Fact]
    public async Task Production_shape_refuses_to_choose_a_file_storage_by_itself()
    {
        var settings = Production(("ConnectionStrings__Postgres", "Host=127.0.0.1;Port=1;Database=apptork;Username=apptork;Password=f0b1c2d3e4a5"));
        settings.Remove("Storage__Provider");
        var result = await RootProcess.RunAsync([], settings, Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain("Storage__Provider is not set, and the production shape needs a choice: Storage__Provider=S3 with Storage__Bucket");
    }

    [Fact]
    public async Task Production_shape_refuses_to_start_without_the_public_base_url()
    {
        var settings = Production(("ConnectionStrings__Postgres", "Host=127.0.0.1;Port=1;Database=apptork;Username=apptork;Password=f0b1c2d3e4a5"));
        settings.Remove("Http__PublicBaseUrl");
        var result = await RootProcess.RunAsync([], settings, Patience, Scratch());
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain("Http__PublicBaseUrl is not set, and the production shape needs it: the URL clients reach this API at");
        result.Output.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task Production_shape_with_local_storage_warns_that_it_serves_a_single_host()
    {
        var migrated = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres);
        await using var process = RootProcess.Start([], Production(("ConnectionStrings__Postgres", migrated), ("Urls", FreeUrl())), Scratch());
        var clock = Stopwatch.StartNew();
        while (!process.Output.Contains("Listening on", StringComparison.Ordinal) && !process.HasExited && clock.Elapsed < Patience)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        process.Output.ShouldContain("Storage__Provider=Local keeps files in", customMessage: process.Output);
        process.Output.ShouldContain("on this host only");
    }

    [Fact]
    public async Task Unknown_command_is_refused_with_usage()
    {
        var result = await RootProcess.RunAsync(["frobnicate"], Settings(), Patience, Scratch());
        result.ExitCode.ShouldBe(64, result.Output);
        result.Output.ShouldContain("serve (default) | migrate");
    }

    [Fact]
    public async Task With_no_settings_the_binary_runs_embedded_and_keeps_its_data_under_dot_data()
    {
        var workingDirectory = Scratch();
        var url = FreeUrl();
        var clock = Stopwatch.StartNew();
        await using var process = RootProcess.Start([], Settings(("Urls", url)), workingDirectory);
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        HttpStatusCode? status = null;
        while (status != HttpStatusCode.OK && clock.Elapsed < Patience && !process.HasExited)
        {
            try
            {
                using var response = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
                status = response.StatusCode;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        status.ShouldBe(HttpStatusCode.OK, process.Output);
        TestContext.Current.TestOutputHelper?.WriteLine($"first 200 after {clock.ElapsedMilliseconds} ms");
        File.Exists(Path.Combine(workingDirectory, "data", "apptork-root.db")).ShouldBeTrue();
        process.Output.ShouldContain("embedded shape");
    }

    private static List<string> MigrationNames()
    {
        using var db = new PostgresRootDbContext(new DbContextOptionsBuilder<PostgresRootDbContext>().UseNpgsql("Host=127.0.0.1;Database=unused").Options);
        return db.Database.GetMigrations().ToList();
    }

    private static Dictionary<string, string> Settings(params (string Name, string Value)[] settings) =>
        settings.ToDictionary(setting => setting.Name, setting => setting.Value);

    /// <summary>The production shape with its required secrets, plus the settings under test.</summary>
    private static Dictionary<string, string> Production(params (string Name, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(TestSecrets.Environment)
        {
            ["Database__Provider"] = "Postgres",
            ["Email__Provider"] = "Smtp",
            ["Email__Smtp__Host"] = "127.0.0.1",
            ["Storage__Provider"] = "Local",
            ["Http__PublicBaseUrl"] = "http://127.0.0.1",
        };
        foreach (var (name, value) in settings)
        {
            all[name] = value;
        }

        return all;
    }

    private static string Scratch() => RootProcess.ScratchDirectory("apptork-start-");

    private static string FreeUrl() => RootProcess.FreeLoopbackUrl();
}
