using System.Net;
using System.Net.Sockets;
using Apptork.Root.Tests.Infrastructure.Categories;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>What the server fixtures need from this machine, failing with a fix when something is missing.</summary>
internal static class ServerHost
{
    public const string SetupHint =
        "Run ./test.sh from the repository root: it installs PostgreSQL, Redis, nginx and the npm test peers " +
        "(tests/peers) when they are missing, then runs the tests.";

    private const string MemoryFileSystem = "/dev/shm";

    private static readonly string[] StandardBinaryDirectories = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];

    /// <summary>
    /// A port that was free a moment ago. Another process could take it before the server binds it,
    /// which is unlikely enough on a test machine not to be worth a retry loop.
    /// </summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Apptork.Root.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Apptork.Root.slnx above {AppContext.BaseDirectory}: the tests must run from a clone of the repository.");
    }

    /// <summary>
    /// Called by everything that starts or reaches a server or a child process. Fails a test marked [Fast], whose promise
    /// is that it needs none, and anything at all in a run started without servers (<c>./test.sh --fast</c>).
    /// </summary>
    public static void RequireServers(string what)
    {
        Category.RefuseInFastTest(what);
        if (Category.ServersDisabled)
        {
            throw new InvalidOperationException(
                $"{Category.CurrentName()} needs {what}, but this run started no servers ({Category.NoServersVariable}=1, as ./test.sh --fast sets it).");
        }
    }

    public static string RequireExecutable(string name, string serverName)
    {
        RequireServers(serverName);
        var searchPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(StandardBinaryDirectories);
        return searchPath.Select(directory => Path.Combine(directory, name)).FirstOrDefault(IsExecutableFile)
            ?? throw new InvalidOperationException($"{serverName}: the executable '{name}' was not found on PATH. {SetupHint}");
    }

    public static string RequireFile(string path, string serverName) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{serverName}: '{path}' does not exist. {SetupHint}");

    public static DirectoryInfo CreateTemporaryDirectory(string prefix) => Directory.CreateTempSubdirectory(prefix);

    /// <summary>
    /// A temporary directory in RAM (/dev/shm) when the machine has one: creating files on this disk is
    /// slow enough to double PostgreSQL's initdb (1.1 s instead of 0.5 s) and to triple CREATE DATABASE.
    /// </summary>
    public static DirectoryInfo CreateMemoryBackedDirectory(string prefix) =>
        Directory.Exists(MemoryFileSystem)
            ? Directory.CreateDirectory(Path.Combine(MemoryFileSystem, $"{prefix}{Guid.NewGuid():N}"))
            : CreateTemporaryDirectory(prefix);

    public static void DeleteDirectory(DirectoryInfo directory)
    {
        directory.Refresh();
        if (directory.Exists)
        {
            directory.Delete(recursive: true);
        }
    }

    // Windows has no Unix file modes, and the test servers are Debian packages anyway.
    private static bool IsExecutableFile(string path) =>
        !OperatingSystem.IsWindows() && File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
