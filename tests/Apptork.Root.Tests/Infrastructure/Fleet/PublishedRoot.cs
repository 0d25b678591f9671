using Apptork.Root.Tests.Infrastructure.Servers;

namespace Apptork.Root.Tests.Infrastructure.Fleet;

/// <summary>
/// The product as production runs it: published for linux-x64, framework-dependent, ReadyToRun (docs/production.md),
/// not the build output the other tests start. A fleet test proves the deployed shape, and publishing changes what runs
/// (precompiled code, the trimmed set of files beside it, the runtimeconfig). <c>test.sh</c> publishes it into
/// <c>artifacts/published</c> before <c>dotnet test</c>, once per run: publishing takes minutes on a busy two-core
/// machine, too long for a test fixture to wait on.
/// </summary>
public static class PublishedRoot
{
    public const string RelativeDirectory = "artifacts/published";

    private const string PublishHint =
        "Run ./test.sh (it publishes the application before the tests), or publish it yourself from the repository root: "
        + "dotnet publish src/Apptork.Root -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o " + RelativeDirectory;

    private static readonly Lazy<string> Executable = new(Find, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The published <c>Apptork.Root</c> executable; fails with how to publish it when it is missing or older than the sources.</summary>
    public static string Path => Executable.Value;

    private static string Find()
    {
        ServerHost.RequireServers("the published Apptork.Root");
        var root = ServerHost.FindRepositoryRoot();
        var executable = System.IO.Path.Combine(root, RelativeDirectory, "Apptork.Root");
        var assembly = System.IO.Path.Combine(root, RelativeDirectory, "Apptork.Root.dll");
        if (!File.Exists(executable) || !File.Exists(assembly))
        {
            throw new InvalidOperationException($"The fleet tests run the published application, but {executable} does not exist. {PublishHint}");
        }

        // A publish left from an older checkout would test code other than the one under test.
        var publishedAt = File.GetLastWriteTimeUtc(assembly);
        var newer = SourceFiles(System.IO.Path.Combine(root, "src", "Apptork.Root")).FirstOrDefault(file => File.GetLastWriteTimeUtc(file) > publishedAt);
        if (newer is not null)
        {
            throw new InvalidOperationException($"The published application in {RelativeDirectory} is older than {newer}. {PublishHint}");
        }

        return executable;
    }

    private static IEnumerable<string> SourceFiles(string project) =>
        Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories).Where(file =>
        {
            var relative = System.IO.Path.GetRelativePath(project, file);
            return !relative.StartsWith("bin" + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)
                && !relative.StartsWith("obj" + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)
                && !relative.StartsWith("data" + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
        });
}
