using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Apptork.Root.Tests.Infrastructure.Categories;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A throwaway Redis server on 127.0.0.1 without persistence. It can be stopped and started again on the
/// same port to test outages; do that on an instance of your own, since other tests share the assembly's.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private const string ServerName = "Redis";

    private DirectoryInfo? directory;
    private ServerProcess? server;
    private int port;

    /// <summary>host:port, as StackExchange.Redis takes it.</summary>
    public string ConnectionString
    {
        get
        {
            ServerHost.RequireServers(ServerName);
            return port != 0
                ? $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"
                : throw new InvalidOperationException($"{ServerName} has not been started.");
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (Category.ServersDisabled)
        {
            return;
        }

        directory = ServerHost.CreateTemporaryDirectory("apptork-redis-");
        port = ServerHost.FreeLoopbackPort();
        await StartAsync();
    }

    /// <summary>Starts the server again on the same port, empty, after <see cref="StopAsync"/>.</summary>
    public async Task StartAsync()
    {
        if (directory is null)
        {
            throw new InvalidOperationException($"{ServerName} has not been initialized.");
        }

        if (server is not null)
        {
            throw new InvalidOperationException($"{ServerName} is already running on {ConnectionString}.");
        }

        string[] command = [ServerHost.RequireExecutable("redis-server", ServerName),
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", directory.FullName];
        var started = ServerProcess.Start(ServerName, "TERM", command);
        try
        {
            await started.WaitUntilReadyAsync(AnswersPingAsync);
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        server = started;
    }

    /// <summary>Stops the server; clients see the outage until <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
            server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (directory is not null)
        {
            ServerHost.DeleteDirectory(directory);
        }
    }

    private async Task<bool> AnswersPingAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var reply = new StringBuilder();
            var buffer = new byte[64];
            int read;
            while (!reply.ToString().Contains('\n', StringComparison.Ordinal)
                && (read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            // While loading, Redis answers -LOADING instead.
            return reply.ToString().StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            return false;
        }
    }
}
