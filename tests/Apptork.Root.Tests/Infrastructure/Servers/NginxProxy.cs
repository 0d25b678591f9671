using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A real nginx (Debian's package) as the reverse proxy in front of an application, on an address of its own:
/// it listens on <see cref="Address"/>, connects to the application from that same address (<c>proxy_bind</c>), and
/// appends the client's address to <c>X-Forwarded-For</c> as production configurations do. It sends the application's
/// own host as <c>Host</c>, which the application accepts in either shape. Runs unprivileged.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private const string ServerName = "nginx";

    // Debian's base system has both; nginx and its worker need no other rights than their own directory.
    private const string UnprivilegedUser = "nobody";
    private const string UnprivilegedGroup = "nogroup";

    private readonly DirectoryInfo directory;
    private readonly ServerProcess server;

    private NginxProxy(DirectoryInfo directory, ServerProcess server, Uri baseAddress)
    {
        this.directory = directory;
        this.server = server;
        BaseAddress = baseAddress;
    }

    public static IPAddress Address { get; } = IPAddress.Parse("127.0.0.2");

    /// <summary>Where clients reach the application through the proxy.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The response header naming the upstream (address:port) that answered, or each one tried, comma-separated.</summary>
    public const string UpstreamHeader = "X-Upstream";

    /// <summary>Starts nginx in front of <paramref name="upstream"/> (an http://127.0.0.1:port address).</summary>
    public static Task<NginxProxy> StartAsync(Uri upstream) => StartAsync([upstream]);

    /// <summary>
    /// Starts nginx in front of <paramref name="upstreams"/> (http://127.0.0.1:port addresses, one host), taking them in
    /// turn (round robin) and passing a request that cannot reach one (refused, timed out, closed unanswered) to the
    /// next, POSTs included, as deploy/nginx.conf does in front of several processes. Every answer names its upstream
    /// in <see cref="UpstreamHeader"/>.
    /// </summary>
    public static async Task<NginxProxy> StartAsync(IReadOnlyList<Uri> upstreams)
    {
        if (upstreams.Count == 0 || upstreams.Select(upstream => upstream.Host).Distinct().Count() != 1)
        {
            throw new ArgumentException("Give at least one upstream, all on one host.", nameof(upstreams));
        }

        var nginx = ServerHost.RequireExecutable("nginx", ServerName);
        var directory = ServerHost.CreateTemporaryDirectory("apptork-nginx-");
        var port = FreePort();
        var configuration = Path.Combine(directory.FullName, "nginx.conf");
        var root = directory.FullName;
        await File.WriteAllTextAsync(configuration, $$"""
            worker_processes 1;
            pid {{root}}/nginx.pid;
            error_log stderr warn;
            events { worker_connections 256; }
            http {
              access_log off;
              upstream application {
            {{string.Concat(upstreams.Select(upstream => $"    server {upstream.Authority} max_fails=1 fail_timeout=2s;\n"))}}  }
              client_body_temp_path {{root}}/client_body;
              proxy_temp_path {{root}}/proxy;
              fastcgi_temp_path {{root}}/fastcgi;
              uwsgi_temp_path {{root}}/uwsgi;
              scgi_temp_path {{root}}/scgi;
              server {
                listen {{Address}}:{{port.ToString(CultureInfo.InvariantCulture)}};
                location / {
                  proxy_pass http://application;
                  proxy_bind {{Address}};
                  proxy_http_version 1.1;
                  proxy_next_upstream error timeout non_idempotent;
                  proxy_connect_timeout 2s;
                  add_header {{UpstreamHeader}} $upstream_addr always;
                  proxy_set_header Host {{upstreams[0].Host}};
                  proxy_set_header Connection "";
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                  proxy_set_header X-Forwarded-Proto $scheme;
                }
              }
            }
            """);

        string[] command = [nginx, "-p", root, "-c", configuration, "-e", "stderr", "-g", "daemon off;"];
        var started = ServerProcess.Start(ServerName, "TERM", [.. await AsUnprivilegedUserAsync(directory), .. command]);
        try
        {
            await started.WaitUntilReadyAsync(cancellationToken => AcceptsConnectionsAsync(port, cancellationToken));
        }
        catch
        {
            await started.DisposeAsync();
            ServerHost.DeleteDirectory(directory);
            throw;
        }

        return new NginxProxy(directory, started, new Uri($"http://{Address}:{port.ToString(CultureInfo.InvariantCulture)}"));
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        ServerHost.DeleteDirectory(directory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(Address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>As root, the command prefix that runs nginx as <see cref="UnprivilegedUser"/>, after handing it the directory.</summary>
    private static async Task<string[]> AsUnprivilegedUserAsync(DirectoryInfo directory)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return [];
        }

        await ServerCommand.RunAsync(ServerName, [ServerHost.RequireExecutable("chown", ServerName), $"{UnprivilegedUser}:{UnprivilegedGroup}", directory.FullName]);
        return [ServerHost.RequireExecutable("setpriv", ServerName), $"--reuid={UnprivilegedUser}", $"--regid={UnprivilegedGroup}", "--clear-groups", "--"];
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient(AddressFamily.InterNetwork);
        try
        {
            await client.ConnectAsync(Address, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
