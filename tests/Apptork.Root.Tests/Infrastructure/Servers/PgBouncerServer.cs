using System.Globalization;
using Npgsql;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A throwaway PgBouncer (Debian's package) on 127.0.0.1 in front of the test PostgreSQL, in <b>transaction</b> pooling
/// mode as large deployments run it: a server connection belongs to a client only for one transaction, so whatever
/// a client leaves on its session (prepared statements, SET, advisory locks, LISTEN) reaches other clients or vanishes.
/// It serves one database, as the superuser without a password, under a name of its own (<c>pooled_</c> and the
/// database's name): a client that bypassed it would find no such database on PostgreSQL, so whatever works with
/// <see cref="ConnectionString"/> went through PgBouncer.
/// </summary>
public sealed class PgBouncerServer : IAsyncDisposable
{
    private const string ServerName = "PgBouncer";

    // PgBouncer refuses to run as root; the postgresql package creates this system user, which PostgresServer runs as too.
    private const string SystemUser = "postgres";

    /// <summary>
    /// The server connections PgBouncer opens per database and user, whatever the number of clients: the fleet's
    /// processes together may hold many more client connections than this.
    /// </summary>
    public const int ServerPoolSize = 40;

    private readonly DirectoryInfo directory;
    private readonly ServerProcess server;

    private PgBouncerServer(DirectoryInfo directory, ServerProcess server, string connectionString)
    {
        this.directory = directory;
        this.server = server;
        ConnectionString = connectionString;
    }

    /// <summary>The database's connection string, through PgBouncer.</summary>
    public string ConnectionString { get; }

    /// <summary>Starts PgBouncer in front of the database that <paramref name="postgresConnectionString"/> reaches.</summary>
    public static async Task<PgBouncerServer> StartAsync(string postgresConnectionString)
    {
        var pgbouncer = ServerHost.RequireExecutable("pgbouncer", ServerName);
        var target = new NpgsqlConnectionStringBuilder(postgresConnectionString);
        var database = target.Database ?? throw new ArgumentException("The connection string names no database.", nameof(postgresConnectionString));
        var directory = ServerHost.CreateTemporaryDirectory("apptork-pgbouncer-");
        var port = ServerHost.FreeLoopbackPort();
        var users = Path.Combine(directory.FullName, "users.txt");
        await File.WriteAllTextAsync(users, $"\"{target.Username}\" \"\"\n");
        var configuration = Path.Combine(directory.FullName, "pgbouncer.ini");
        await File.WriteAllTextAsync(configuration, $"""
            [databases]
            pooled_{database} = host={target.Host} port={target.Port.ToString(CultureInfo.InvariantCulture)} dbname={database}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port.ToString(CultureInfo.InvariantCulture)}
            unix_socket_dir =
            auth_type = trust
            auth_file = {users}
            pool_mode = transaction
            default_pool_size = {ServerPoolSize.ToString(CultureInfo.InvariantCulture)}
            max_client_conn = 2000
            ; A test that breaks transaction pooling must fail at once, not after PgBouncer's default wait of 120 s.
            query_wait_timeout = 20
            """);

        var asServerUser = await PrepareServerUserAsync(directory);
        var started = ServerProcess.Start(ServerName, "TERM", [.. asServerUser, pgbouncer, configuration]);
        // PgBouncer 1.18 (Debian 12's) cannot keep prepared statements in transaction mode: written out, as an operator
        // must, so the job storage's pool does not prepare its statements either.
        var through = new NpgsqlConnectionStringBuilder(postgresConnectionString) { Host = "127.0.0.1", Port = port, Database = $"pooled_{database}", MaxAutoPrepare = 0 };
        var bouncer = new PgBouncerServer(directory, started, through.ConnectionString);
        try
        {
            await started.WaitUntilReadyAsync(bouncer.AcceptsConnectionsAsync);
        }
        catch
        {
            await bouncer.DisposeAsync();
            throw;
        }

        return bouncer;
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        ServerHost.DeleteDirectory(directory);
    }

    /// <summary>As root, the command prefix that runs PgBouncer as <see cref="SystemUser"/>, after handing it the directory.</summary>
    private static async Task<string[]> PrepareServerUserAsync(DirectoryInfo directory)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return [];
        }

        await ServerCommand.RunAsync(ServerName, [ServerHost.RequireExecutable("chown", ServerName), "-R", $"{SystemUser}:", directory.FullName]);
        return [ServerHost.RequireExecutable("setpriv", ServerName), $"--reuid={SystemUser}", $"--regid={SystemUser}", "--init-groups", "--"];
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 2 };
        await using var connection = new NpgsqlConnection(probe.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }
}
