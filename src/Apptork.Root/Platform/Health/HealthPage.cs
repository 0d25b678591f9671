using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// The health page: a live test of every dependency at a secret path (<c>Health__Path</c>), answered by every role.
/// Each check has its own timeout and its name as its tag, so <c>?tags=database,redis</c> runs a subset. 200 when every
/// check passes or only warns (degraded), 503 otherwise. Anonymous, since the path is the secret: it is not an API
/// route (no throttle, no OpenAPI entry), and nothing but the embedded shape's start-up line prints it.
/// </summary>
public sealed class HealthPage(string path, string? generatedIn)
{
    public const string Database = "database";
    public const string Redis = "redis";
    public const string Worker = "worker";
    public const string Storage = "storage";
    public const string Memory = "memory";
    public const string Disk = "disk";

    public static readonly IReadOnlyList<string> Checks = [Database, Redis, Worker, Storage, Memory, Disk];

    public string Path { get; } = path;

    /// <summary>The file the embedded shape keeps its generated path in; null when <c>Health__Path</c> sets it.</summary>
    public string? GeneratedIn { get; } = generatedIn;

    public bool Serves(HttpContext context) => string.Equals(context.Request.Path.Value, Path, StringComparison.Ordinal);
}

/// <summary>Registers the page's settings and checks, and answers its path.</summary>
public static partial class HealthPageSetup
{
    private const string RegistrationPrefix = "health-page:";

    /// <summary>The page's own registrations are named apart from the probes' (<c>database</c> is the readiness check's).</summary>
    private static string RegistrationName(string check) => RegistrationPrefix + check;

    /// <summary>The page's checks, for another view of the same report (the admin dashboard's health summary); each one's name is its single tag.</summary>
    public static bool IsPageCheck(HealthCheckRegistration registration) => registration.Name.StartsWith(RegistrationPrefix, StringComparison.Ordinal);

    public static IServiceCollection AddHealthPage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<HealthPageOptions>(HealthPageOptions.Section);
        services.AddSingleton<IValidateOptions<HealthPageOptions>, HealthPageSettingsValidator>();
        services.AddSingleton(provider => Resolve(
            provider.GetRequiredService<IOptions<HealthPageOptions>>().Value, configuration, provider.GetRequiredService<IHostEnvironment>()));
        services.AddHostedService<HealthPageAnnouncement>();
        // Read leniently: a bad value is refused by name with the other settings when the process starts. Not through the
        // options, which the probes' endpoints would validate while being mapped, in every command (migrate included).
        var timeout = TimeSpan.FromSeconds(int.TryParse(
            configuration[$"{HealthPageOptions.Section}:{nameof(HealthPageOptions.TimeoutSeconds)}"], CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? seconds
            : new HealthPageOptions().TimeoutSeconds);
        var checks = services.AddHealthChecks();
        Add<DatabaseWriteCheck>(HealthPage.Database);
        Add<RedisRoundTripCheck>(HealthPage.Redis);
        Add<WorkerPingCheck>(HealthPage.Worker);
        Add<StorageRoundTripCheck>(HealthPage.Storage);
        Add<MemoryCheck>(HealthPage.Memory);
        Add<DiskCheck>(HealthPage.Disk);
        return services;

        void Add<TCheck>(string name)
            where TCheck : class, IHealthCheck =>
            checks.Add(new HealthCheckRegistration(
                RegistrationName(name), provider => ActivatorUtilities.CreateInstance<TCheck>(provider), HealthStatus.Unhealthy, [name], timeout));
    }

    /// <summary>
    /// Answers the page's path ahead of the endpoints. Not a routed endpoint: its pattern would be read when the routes are
    /// mapped, before the settings are validated, and by commands (<c>migrate</c>) that do not need the setting.
    /// </summary>
    public static IApplicationBuilder UseHealthPage(this IApplicationBuilder app)
    {
        var page = new Lazy<HealthPage>(app.ApplicationServices.GetRequiredService<HealthPage>);
        return app.MapWhen(context => page.Value.Serves(context), branch => branch.Run(AnswerAsync));
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            throw ErrorCatalog.MethodNotAllowed.ToException();
        }

        var selected = SelectedChecks(context.Request.Query["tags"].ToString());
        var report = await context.RequestServices.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(registration => registration.Tags.Overlaps(selected), context.RequestAborted);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        await HealthReportWriter.WriteAsync(context, report, (_, entry) => entry.Tags.Single());
    }

    /// <summary>Every check when <c>tags</c> is absent or empty; an unknown name is refused, rather than silently checking nothing.</summary>
    private static HashSet<string> SelectedChecks(string tags)
    {
        var requested = tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (requested.Count == 0)
        {
            return [.. HealthPage.Checks];
        }

        return requested.IsSubsetOf(HealthPage.Checks) ? requested : throw ErrorCatalog.InvalidChoice.ToException("tags");
    }

    /// <summary>
    /// <c>Health__Path</c>, or in the embedded shape (which the settings' validation leaves as the only one without it) a
    /// path generated on first start and kept, private, beside the database: <c>data/apptork-root-health-path.txt</c>.
    /// </summary>
    private static HealthPage Resolve(HealthPageOptions options, IConfiguration configuration, IHostEnvironment environment)
    {
        if (!string.IsNullOrWhiteSpace(options.Path))
        {
            return new HealthPage(options.Path, null);
        }

        var file = PersistenceSetup.BesideSqliteDatabase(configuration, environment, "-health-path.txt");
        // 24 random bytes: 32 URL-safe characters, as unguessable as a session token.
        var path = PrivateFiles.ReadOrCreateText(file, () => $"/health-{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24))}").Trim();
        return new HealthPage(path, file);
    }

    /// <summary>Prints a generated path once at start, so the operator finds it; a path the operator set is theirs and is never logged.</summary>
    private sealed partial class HealthPageAnnouncement(HealthPage page, ILogger<HealthPage> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (page.GeneratedIn is { } file)
            {
                LogGenerated(logger, page.Path, file);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Health page at {Path} (generated once and kept in {File}; Health__Path sets another)")]
        private static partial void LogGenerated(ILogger logger, string path, string file);
    }
}
