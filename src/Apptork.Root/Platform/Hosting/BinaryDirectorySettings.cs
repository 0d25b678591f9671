using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace Apptork.Root.Platform.Hosting;

/// <summary>
/// The host looks for <c>appsettings.json</c> in its content root, the working directory, so the binary started from any
/// other folder would silently run without the defaults shipped beside it (every SQL statement logged, for one). The
/// settings files are read from the binary's own folder instead; the content root stays the working directory, from
/// which relative data paths are documented to be taken.
/// </summary>
public static class BinaryDirectorySettings
{
    public static void ReadSettingsFilesBesideTheBinary(this ConfigurationManager configuration)
    {
        var sources = configuration.Sources;
        for (var index = 0; index < sources.Count; index++)
        {
            if (sources[index] is JsonConfigurationSource { Path: { } path } settingsFile && path.StartsWith("appsettings", StringComparison.Ordinal))
            {
                // Replaced rather than changed in place: the configuration reloads when its list of sources changes.
                sources[index] = new JsonConfigurationSource
                {
                    Path = path,
                    Optional = settingsFile.Optional,
                    // Settings are validated once, at start, so a change to the file is not picked up anyway; watching
                    // it would cost an inotify instance per host, and a test run starts hundreds of hosts.
                    ReloadOnChange = false,
                    FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
                };
            }
        }
    }
}
