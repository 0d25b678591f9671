using System.Globalization;
using Npgsql;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A throwaway PgBouncer (Debian's package) on 127.0.0.1 in front of the test PostgreSQL, in <b>transaction</b> pooling
/// mode as large deployments run it: a server connection belongs to a client only for one transaction, so whatever
/// a client leaves on its session (prepared statements, SET, advisory locks, LISTEN) reaches other clients or vanishes.
/// Every database of the server is reachable through it under the same name, as the superuser, without a password.
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
    private readonly int port;

    private PgBouncerServer(DirectoryInfo directory, ServerProcess server, int port)
    {
        this.directory = directory;
        this.server = server;
        this.port = port;
    }

    /// <summary>Starts PgBouncer in front of the PostgreSQL that <paramref name="postgresConnectionString"/> reaches.</summary>
    public static async Task<PgBouncerServer> StartAsync(string postgresConnectionString)
    {
        var pgbouncer = ServerHost.RequireExecutable("pgbouncer", ServerName);
        var target = new NpgsqlConnectionStringBuilder(postgresConnectionString);
        var directory = ServerHost.CreateTemporaryDirectory("apptork-pgbouncer-");
        var port = ServerHost.FreeLoopbackPort();
        var users = Path.Combine(directory.FullName, "users.txt");
        await File.WriteAllTextAsync(users, $"\"{target.Username}\" \"\"\n");
        var configuration = Path.Combine(directory.FullName, "pgbouncer.ini");
        await File.WriteAllTextAsync(configuration, $"""
            [databases]
            * = host={target.Host} port={target.Port.ToString(CultureInfo.InvariantCulture)}

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
        var started = ServerProcess.Start(ServerName, "INT", [.. asServerUser, pgbouncer, configuration]);
        var bouncer = new PgBouncerServer(directory, started, port);
        try
        {
            await started.WaitUntilReadyAsync(cancellationToken => bouncer.AcceptsConnectionsAsync(target.Username!, target.Database ?? "postgres", cancellationToken));
        }
        catch
        {
            await bouncer.DisposeAsync();
            throw;
        }

        return bouncer;
    }

    /// <summary>The same connection string, through PgBouncer instead of straight to PostgreSQL.</summary>
    public string Through(string postgresConnectionString) =>
        new NpgsqlConnectionStringBuilder(postgresConnectionString) { Host = "127.0.0.1", Port = port }.ConnectionString;

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

    private async Task<bool> AcceptsConnectionsAsync(string username, string database, CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = username, Database = database, Pooling = false, Timeout = 2 };
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
