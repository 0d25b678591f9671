using System.Globalization;
using Apptork.Root.Tests.Infrastructure.Categories;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A throwaway S3-compatible server (S3rver, run by tests/peers/s3rver.mjs on Node) on 127.0.0.1,
/// path-style, with one bucket made at start. It checks SigV4 signatures but also serves anonymous requests.
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    private const string ServerName = "S3 (s3rver)";
    private const string ReadyLinePrefix = "S3RVER_READY ";

    private DirectoryInfo? directory;
    private ServerProcess? server;
    private string? serviceUrl;

    /// <summary>http://127.0.0.1:port, to use with path-style addressing.</summary>
    public string ServiceUrl
    {
        get
        {
            ServerHost.RequireServers(ServerName);
            return serviceUrl ?? throw new InvalidOperationException($"{ServerName} has not been started.");
        }
    }

    /// <summary>S3rver's fixed credentials.</summary>
    public string AccessKey => "S3RVER";

    public string SecretKey => "S3RVER";

    /// <summary>A bucket that exists from the start.</summary>
    public string Bucket => "apptork-tests";

    /// <summary>The application's settings for this server; credentials come from the environment (set at start).</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "S3",
        ["Storage:Bucket"] = Bucket,
        ["Storage:ServiceUrl"] = ServiceUrl,
        ["Storage:ForcePathStyle"] = "true",
        ["Storage:Region"] = "us-east-1",
        // S3rver refuses AWSSDK.S3 4's trailing checksums (ENVIRONMENT.md).
        ["Storage:ChecksumMode"] = "WhenRequired",
    };

    public async ValueTask InitializeAsync()
    {
        if (Category.ServersDisabled)
        {
            return;
        }

        var node = ServerHost.RequireExecutable("node", ServerName);
        var peers = Path.Combine(ServerHost.FindRepositoryRoot(), "tests", "peers");
        var script = ServerHost.RequireFile(Path.Combine(peers, "s3rver.mjs"), ServerName);
        ServerHost.RequireFile(Path.Combine(peers, "node_modules", "@20minutes", "s3rver", "package.json"), ServerName);
        directory = ServerHost.CreateTemporaryDirectory("apptork-s3-");

        // Port 0: the script binds a free port itself and reports it, so no other process can take it meanwhile.
        server = ServerProcess.Start(ServerName, "TERM",
            [node, script, "--port", "0", "--directory", directory.FullName, "--bucket", Bucket]);
        await server.WaitUntilReadyAsync(_ => Task.FromResult(ReadyLine() is not null));

        var port = int.Parse(ReadyLine()![ReadyLinePrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture);
        serviceUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        // In-process hosts read S3 credentials where production does, the SDK's standard environment variables.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        if (directory is not null)
        {
            ServerHost.DeleteDirectory(directory);
        }
    }

    private string? ReadyLine() => server?.FindOutputLine(line => line.StartsWith(ReadyLinePrefix, StringComparison.Ordinal));
}
