using System.Globalization;
using System.Text;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;

namespace Apptork.Root.Tests.Infrastructure.Fleet;

/// <summary>The assembly's servers a fleet runs on.</summary>
public sealed record FleetServers(PostgresServer Postgres, RedisServer Redis, S3Server S3, SmtpServer Smtp);

/// <summary>What a fleet is made of; the defaults are the production shape scaled out: 3 api and 2 worker processes.</summary>
public sealed record FleetOptions
{
    /// <summary>Starts the database's name, to recognize it in logs.</summary>
    public string Name { get; init; } = "fleet";

    public int ApiProcesses { get; init; } = 3;

    public int WorkerProcesses { get; init; } = 2;

    /// <summary>Every process reaches PostgreSQL through a PgBouncer in transaction pooling mode (migrate still goes straight).</summary>
    public bool ThroughPgBouncer { get; init; }

    /// <summary>More settings for every process (configuration keys, e.g. <c>Throttling:Rates:anon:anonymous</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
}

/// <summary>
/// The product run as a fleet, as a scaled-out deployment runs it: the published binary as child processes, 3
/// <c>api</c> and 2 <c>worker</c> by default, on one PostgreSQL database, one Redis, the S3 server and the SMTP peer,
/// configured only by environment settings (one set for all, the role apart), behind a real nginx taking the api
/// processes in turn. The schema is made by <c>migrate</c>, run once as its own process before any other starts.
/// </summary>
public sealed class RootFleet : IAsyncDisposable
{
    private readonly FleetServers servers;
    private readonly PgBouncerServer? pgBouncer;
    private readonly Dictionary<string, string> environment;
    private readonly List<FleetProcess> processes = [];
    private NginxProxy? proxy;

    private RootFleet(FleetServers servers, string connectionString, PgBouncerServer? pgBouncer, Dictionary<string, string> environment)
    {
        this.servers = servers;
        this.pgBouncer = pgBouncer;
        this.environment = environment;
        ConnectionString = connectionString;
        ProcessConnectionString = environment["ConnectionStrings__Postgres"];
    }

    /// <summary>Straight to the fleet's PostgreSQL database, for assertions.</summary>
    public string ConnectionString { get; }

    /// <summary>What the processes connect with: through PgBouncer when the fleet has one.</summary>
    public string ProcessConnectionString { get; }

    public bool ThroughPgBouncer => pgBouncer is not null;

    public IReadOnlyList<FleetProcess> Processes => processes;

    public IReadOnlyList<FleetProcess> Apis => [.. processes.Where(process => process.Role == "api")];

    public IReadOnlyList<FleetProcess> Workers => [.. processes.Where(process => process.Role == "worker")];

    /// <summary>Where clients reach the api processes, through nginx on <see cref="NginxProxy.Address"/>.</summary>
    public Uri ProxyAddress => (proxy ?? throw new InvalidOperationException("The fleet has not started.")).BaseAddress;

    /// <summary>A client through the proxy, connecting from 127.0.0.1.</summary>
    public HttpClient Client { get; private set; } = null!;

    public SmtpServer Smtp => servers.Smtp;

    /// <summary>
    /// Starts the fleet: a database, <c>migrate</c>, then every process at once (and PgBouncer first when asked), ready
    /// when each answers <c>/healthz/ready</c>, then the proxy. On failure, stops what it started and throws with the output.
    /// </summary>
    public static async Task<RootFleet> StartAsync(FleetServers servers, FleetOptions options)
    {
        var connectionString = await servers.Postgres.CreateDatabaseAsync(options.Name);
        PgBouncerServer? pgBouncer = null;
        RootFleet? fleet = null;
        try
        {
            pgBouncer = options.ThroughPgBouncer ? await PgBouncerServer.StartAsync(connectionString) : null;
            var settings = new Dictionary<string, string?>(servers.S3.Settings)
            {
                ["ConnectionStrings:Redis"] = servers.Redis.ConnectionString,
                // A deployment of its own on the shared Redis: its throttling counts and announcements are its own.
                ["Redis:KeyPrefix"] = $"{options.Name}-{Guid.NewGuid():N}:",
                // nginx's word on the client's address is believed, nobody else's.
                ["ForwardedHeaders:KnownProxies:0"] = NginxProxy.Address.ToString(),
            };
            foreach (var (key, value) in options.Settings)
            {
                settings[key] = value;
            }

            var environment = RootProcess.ProductionEnvironment(pgBouncer?.ConnectionString ?? connectionString, servers.Smtp, settings);
            // The S3 credentials where the SDK reads them in production: its standard environment variables.
            environment["AWS_ACCESS_KEY_ID"] = servers.S3.AccessKey;
            environment["AWS_SECRET_ACCESS_KEY"] = servers.S3.SecretKey;
            fleet = new RootFleet(servers, connectionString, pgBouncer, environment);

            // migrate goes straight to PostgreSQL, as a release's schema change should: one short session of DDL that
            // gains nothing from a pool, and an administrative task PgBouncer's documentation keeps off it.
            var migrated = await fleet.RunAsync(["migrate"], new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = connectionString });
            if (migrated.ExitCode != 0)
            {
                throw new InvalidOperationException($"migrate exited with {migrated.ExitCode}:\n{migrated.Output}");
            }

            for (var index = 1; index <= options.ApiProcesses; index++)
            {
                fleet.processes.Add(new FleetProcess("api", index, new Uri(RootProcess.FreeLoopbackUrl()), environment));
            }

            for (var index = 1; index <= options.WorkerProcesses; index++)
            {
                fleet.processes.Add(new FleetProcess("worker", index, new Uri(RootProcess.FreeLoopbackUrl()), environment));
            }

            await Task.WhenAll(fleet.processes.Select(process => process.WaitUntilReadyAsync()));
            fleet.proxy = await NginxProxy.StartAsync([.. fleet.Apis.Select(api => api.BaseAddress)]);
            fleet.Client = fleet.ClientFrom("127.0.0.1");
            return fleet;
        }
        catch
        {
            if (fleet is not null)
            {
                await fleet.DisposeAsync();
            }
            else
            {
                if (pgBouncer is not null)
                {
                    await pgBouncer.DisposeAsync();
                }

                await servers.Postgres.DropDatabaseAsync(connectionString);
            }

            throw;
        }
    }

    /// <summary>A client through the proxy from another machine: connecting from <paramref name="sourceAddress"/> (127.0.0.3, 127.0.0.4…).</summary>
    public HttpClient ClientFrom(string sourceAddress) => Hosting.ClientFrom.Address(sourceAddress, ProxyAddress);

    /// <summary>
    /// Runs a command of the binary (<c>reconcile</c>, <c>set-role</c>…) as an operator would: with the fleet's settings,
    /// in a process of its own, and waits for it to exit.
    /// </summary>
    public Task<RootProcess.Result> RunAsync(IReadOnlyList<string> arguments) => RunAsync(arguments, new Dictionary<string, string>());

    /// <summary>The last lines of every process, for a failure message.</summary>
    public string DescribeProcesses(int linesEach = 40)
    {
        var description = new StringBuilder();
        foreach (var process in processes)
        {
            var lines = process.Output.Split('\n');
            description.AppendLine(CultureInfo.InvariantCulture, $"----- {process.Name} ({process.BaseAddress}){(process.HasExited ? ", exited" : "")} -----");
            description.AppendJoin('\n', lines.Skip(Math.Max(0, lines.Length - linesEach))).AppendLine();
        }

        return description.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (proxy is not null)
        {
            await proxy.DisposeAsync();
        }

        await Task.WhenAll(processes.Select(process => process.DisposeAsync().AsTask()));
        if (pgBouncer is not null)
        {
            await pgBouncer.DisposeAsync();
        }

        await servers.Postgres.DropDatabaseAsync(ConnectionString);
    }

    private async Task<RootProcess.Result> RunAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> overrides)
    {
        var commandEnvironment = new Dictionary<string, string>(environment);
        foreach (var (key, value) in overrides)
        {
            commandEnvironment[key] = value;
        }

        var directory = RootProcess.ScratchDirectory("apptork-fleet-command-");
        try
        {
            await using var command = RootProcess.Start(arguments, commandEnvironment, directory, PublishedRoot.Path);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                return await command.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Apptork.Root {string.Join(' ', arguments)} did not exit within 120 s:\n{command.Output}");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
