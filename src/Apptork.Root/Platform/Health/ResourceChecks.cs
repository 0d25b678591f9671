using Apptork.Root.Platform.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// The process's working set against a warning level (degraded, still 200) and a failure level (503), as
/// django-health-check does. Written here: no package for it is served to this build, and the check is a few lines.
/// </summary>
public sealed class MemoryCheck(IOptions<HealthPageOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var megabytes = Environment.WorkingSet / (1024 * 1024);
        var description = $"working set {megabytes} MB (warning above {settings.MemoryWarningMegabytes}, failure above {settings.MemoryFailureMegabytes})";
        return Task.FromResult(
            megabytes > settings.MemoryFailureMegabytes ? HealthCheckResult.Unhealthy(description)
            : megabytes > settings.MemoryWarningMegabytes ? HealthCheckResult.Degraded(description)
            : HealthCheckResult.Healthy(description));
    }
}

/// <summary>
/// Free space on the disk that holds the data (the local file storage's folder, which in the embedded shape sits beside
/// the database) against a warning and a failure level, like <see cref="MemoryCheck"/>, and written here
/// for the same reason.
/// </summary>
public sealed class DiskCheck(IOptions<HealthPageOptions> options, IOptions<StorageOptions> storage, IHostEnvironment environment) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        long megabytes;
        try
        {
            megabytes = new DriveInfo(ExistingFolder(Path.GetFullPath(storage.Value.LocalPath, environment.ContentRootPath))).AvailableFreeSpace / (1024 * 1024);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"free space unknown ({exception.GetType().Name})"));
        }

        // No folder name: the page says how much is free, not where the data lives.
        var description = $"{megabytes} MB free (warning below {settings.DiskWarningFreeMegabytes}, failure below {settings.DiskFailureFreeMegabytes})";
        return Task.FromResult(
            megabytes < settings.DiskFailureFreeMegabytes ? HealthCheckResult.Unhealthy(description)
            : megabytes < settings.DiskWarningFreeMegabytes ? HealthCheckResult.Degraded(description)
            : HealthCheckResult.Healthy(description));
    }

    /// <summary>The folder, or its nearest existing parent before the first file is stored: the same disk either way.</summary>
    private static string ExistingFolder(string folder)
    {
        while (!Directory.Exists(folder) && Path.GetDirectoryName(folder) is { } parent)
        {
            folder = parent;
        }

        return folder;
    }
}
