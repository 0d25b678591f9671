using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Storage;

/// <summary>
/// Local storage chosen in the production shape works only while one host serves every request: a file stays on the
/// disk of the process that received it. Said once at start, so whoever adds a second host has been told.
/// </summary>
public sealed partial class SingleHostStorageWarning(RuntimeShape shape, IOptions<StorageOptions> options, IHostEnvironment environment, ILogger<SingleHostStorageWarning> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (shape.IsProduction)
        {
            LogSingleHostOnly(logger, Path.GetFullPath(options.Value.LocalPath, environment.ContentRootPath));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage__Provider=Local keeps files in {Folder} on this host only: every api and worker process must run on this host and share that folder; for more hosts set Storage__Provider=S3")]
    private static partial void LogSingleHostOnly(ILogger logger, string folder);
}
