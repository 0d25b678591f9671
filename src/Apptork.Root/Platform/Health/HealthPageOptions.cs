using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Health;

/// <summary>The <c>Health__*</c> settings of the health page, which runs a live test of every dependency.</summary>
public sealed class HealthPageOptions
{
    public const string Section = "Health";

    /// <summary>
    /// <c>Health__Path</c>: where the page answers. The path is its only protection, so it is long and random. Unset: the
    /// embedded shape generates one once and keeps it beside its database; the production shape requires it.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>How long each check may take before it counts as failed: a hung dependency makes the page answer 503, not hang.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>How long the worker check waits for a worker to run its ping job; shorter than <see cref="TimeoutSeconds"/>, so it says why it failed.</summary>
    [Range(1, 59)]
    public int WorkerDeadlineSeconds { get; set; } = 4;

    /// <summary>The process's working set above which the memory check is degraded (still 200).</summary>
    [Range(1, 1024 * 1024)]
    public long MemoryWarningMegabytes { get; set; } = 1024;

    /// <summary>The process's working set above which the memory check fails (503).</summary>
    [Range(1, 1024 * 1024)]
    public long MemoryFailureMegabytes { get; set; } = 2048;

    /// <summary>Free disk space below which the disk check is degraded (still 200).</summary>
    [Range(0, 1024L * 1024 * 1024)]
    public long DiskWarningFreeMegabytes { get; set; } = 2048;

    /// <summary>Free disk space below which the disk check fails (503).</summary>
    [Range(0, 1024L * 1024 * 1024)]
    public long DiskFailureFreeMegabytes { get; set; } = 256;
}

/// <summary>Refuses at start a health page path that could be guessed or clash with another route, and thresholds in the wrong order.</summary>
public sealed partial class HealthPageSettingsValidator(RuntimeShape shape) : IValidateOptions<HealthPageOptions>
{
    /// <summary>After the slash: as many characters as 96 random bits in base64url, the generated path's strength at least.</summary>
    public const int MinimumSecretLength = 16;

    private static readonly string[] TakenPrefixes = ["/api", HealthEndpoints.PathPrefix, "/docs", "/openapi", "/files", "/.well-known"];

    public ValidateOptionsResult Validate(string? name, HealthPageOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            if (shape.IsProduction)
            {
                failures.Add("Health__Path is not set, and the production shape needs it: the secret path of the health page, "
                    + "e.g. Health__Path=/health-$(openssl rand -hex 16).");
            }
        }
        else if (!SafePath().IsMatch(options.Path) || options.Path.Length - 1 < MinimumSecretLength)
        {
            // The value is a secret: it is never repeated in the message.
            failures.Add($"Health__Path must start with '/', hold only letters, digits, '-', '_', '.' and '/', and have at least {MinimumSecretLength} "
                + "characters after the slash, so it cannot be guessed (e.g. /health-$(openssl rand -hex 16)).");
        }
        else if (TakenPrefixes.Any(prefix => options.Path.Equals(prefix, StringComparison.OrdinalIgnoreCase)
            || options.Path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase)))
        {
            failures.Add($"Health__Path must not be under {string.Join(", ", TakenPrefixes)}: those paths belong to the API and its probes.");
        }

        if (options.WorkerDeadlineSeconds >= options.TimeoutSeconds)
        {
            failures.Add($"Health__WorkerDeadlineSeconds ({options.WorkerDeadlineSeconds}) must be less than Health__TimeoutSeconds ({options.TimeoutSeconds}).");
        }

        if (options.MemoryWarningMegabytes > options.MemoryFailureMegabytes)
        {
            failures.Add("Health__MemoryWarningMegabytes must not be above Health__MemoryFailureMegabytes.");
        }

        if (options.DiskWarningFreeMegabytes < options.DiskFailureFreeMegabytes)
        {
            failures.Add("Health__DiskWarningFreeMegabytes must not be below Health__DiskFailureFreeMegabytes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^/[A-Za-z0-9._/-]+$")]
    private static partial Regex SafePath();
}
