using System.Globalization;
using Apptork.Root.Tests.Infrastructure.Categories;
using Npgsql;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A throwaway PostgreSQL server on 127.0.0.1, from the newest /usr/lib/postgresql/*/bin, with its data
/// directory in RAM when possible. Durability is off: it is fast and gone when the tests end.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string ServerName = "PostgreSQL";
    private const string SuperUser = "postgres";

    // initdb and postgres refuse to run as root; the Debian package creates this system user for them.
    private const string SystemUser = "postgres";

    // PostgreSQL's identifier limit, less "_" and the 32 hex digits of a GUID.
    private const int MaxPrefixLength = 63 - 33;

    private DirectoryInfo? directory;
    private ServerProcess? server;
    private string? adminConnectionString;

    /// <summary>Connects as the superuser to the "postgres" database.</summary>
    public string AdminConnectionString
    {
        get
        {
            ServerHost.RequireServers(ServerName);
            return adminConnectionString ?? throw new InvalidOperationException($"{ServerName} has not been started.");
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (Category.ServersDisabled)
        {
            return;
        }

        var binaries = FindNewestBinDirectory();
        directory = ServerHost.CreateMemoryBackedDirectory("apptork-postgres-");
        var dataDirectory = Path.Combine(directory.FullName, "data");
        var asServerUser = await PrepareServerUserAsync(directory);

        string[] initdb = [Path.Combine(binaries, "initdb"), "--auth=trust", "--no-sync", "--no-instructions",
            "-U", SuperUser, "-E", "UTF8", "--locale=C.UTF-8", "-D", dataDirectory];
        await ServerCommand.RunAsync($"{ServerName} initdb", [.. asServerUser, .. initdb]);

        var port = ServerHost.FreeLoopbackPort();
        string[] postgres = [Path.Combine(binaries, "postgres"), "-D", dataDirectory, "-h", "127.0.0.1",
            "-p", port.ToString(CultureInfo.InvariantCulture), "-k", directory.FullName, "-F",
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off", "-c", "max_connections=600"];
        // SIGQUIT is PostgreSQL's immediate shutdown: it still releases its shared memory, unlike SIGKILL.
        server = ServerProcess.Start(ServerName, "QUIT", [.. asServerUser, .. postgres]);

        adminConnectionString = ConnectionString(port, "postgres");
        await server.WaitUntilReadyAsync(AcceptsConnectionsAsync);
    }

    /// <summary>Creates an empty database with a unique name and returns a connection string to it.</summary>
    /// <param name="prefix">Starts the database name, to recognize it in logs; reduced to [a-z0-9_].</param>
    public async Task<string> CreateDatabaseAsync(string? prefix = null)
    {
        var name = $"{SanitizePrefix(prefix ?? "test")}_{Guid.NewGuid():N}";
        await ExecuteAdminCommandAsync($"CREATE DATABASE \"{name}\"");
        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name };
        return builder.ConnectionString;
    }

    /// <summary>Drops the database of a connection string from <see cref="CreateDatabaseAsync"/>, closing its connections.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (string.IsNullOrEmpty(name) || name.Contains('"', StringComparison.Ordinal))
        {
            throw new ArgumentException("The connection string names no database this server created.", nameof(connectionString));
        }

        await using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await ExecuteAdminCommandAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        if (directory is not null)
        {
            ServerHost.DeleteDirectory(directory);
        }
    }

    private static string ConnectionString(int port, string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Database = database,
            IncludeErrorDetail = true,
            Pooling = true,
        }.ConnectionString;

    private static string FindNewestBinDirectory()
    {
        const string installRoot = "/usr/lib/postgresql";
        var newest = Directory.Exists(installRoot)
            ? Directory.EnumerateDirectories(installRoot)
                .Select(versionDirectory => (Version: int.TryParse(Path.GetFileName(versionDirectory), out var version) ? version : -1,
                    Bin: Path.Combine(versionDirectory, "bin")))
                .Where(candidate => candidate.Version >= 0 && File.Exists(Path.Combine(candidate.Bin, "postgres")) && File.Exists(Path.Combine(candidate.Bin, "initdb")))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            $"{ServerName}: no server binaries in {installRoot}/*/bin (Debian's postgresql package). {ServerHost.SetupHint}");
    }

    /// <summary>
    /// Returns the command prefix that runs a program as the server's user: none for an unprivileged test
    /// process; for root, setpriv to <see cref="SystemUser"/>, after handing that user the directory.
    /// </summary>
    private static async Task<string[]> PrepareServerUserAsync(DirectoryInfo directory)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return [];
        }

        if (!File.ReadLines("/etc/passwd").Any(entry => entry.StartsWith($"{SystemUser}:", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException(
                $"{ServerName}: the tests run as root and PostgreSQL refuses root, but there is no '{SystemUser}' user to run it as. {ServerHost.SetupHint}");
        }

        await ServerCommand.RunAsync(ServerName, [ServerHost.RequireExecutable("chown", ServerName), $"{SystemUser}:", directory.FullName]);
        // setpriv execs the server in place, so the lifeline signals PostgreSQL itself.
        return [ServerHost.RequireExecutable("setpriv", ServerName), $"--reuid={SystemUser}", $"--regid={SystemUser}", "--init-groups", "--"];
    }

    private static string SanitizePrefix(string prefix)
    {
        var sanitized = new string([.. prefix.ToLowerInvariant().Take(MaxPrefixLength)
            .Select(character => char.IsAsciiLetterOrDigit(character) ? character : '_')]);
        return sanitized.Length == 0 ? "test" : sanitized;
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false, Timeout = 2 };
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

    private async Task ExecuteAdminCommandAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
