using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Hosting;

/// <summary>
/// The binary's verbs: <c>serve</c> (default) runs the process in its <c>Role</c>; <c>migrate</c> brings the database schema up to
/// date and exits; <c>healthcheck</c> (<see cref="HealthCheckCommand"/>) asks the process beside it whether it is live.
/// </summary>
public static partial class RootCommand
{
    public const string Serve = "serve";
    public const string Migrate = "migrate";

    /// <summary>
    /// The verb, its own arguments (the words right after it, before the first setting), and the rest for the host.
    /// </summary>
    public static (string Command, string[] Arguments, string[] HostArgs) Parse(string[] args)
    {
        if (args is not [var first, .. var rest] || !IsWord(first))
        {
            return (Serve, [], args);
        }

        var arguments = rest.TakeWhile(IsWord).ToArray();
        return (first.ToLowerInvariant(), arguments, rest[arguments.Length..]);
    }

    private static bool IsWord(string arg) => !arg.StartsWith('-') && !arg.Contains('=', StringComparison.Ordinal);

    /// <summary>
    /// Runs the whole process; a setting that prevents it from starting, found while composing or starting, ends it
    /// with one sentence naming that setting (exit code 78, EX_CONFIG) instead of a stack trace.
    /// </summary>
    public static async Task<int> RefuseOnBadSettingsAsync(Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception exception) when (IsBadSetting(exception))
        {
            await Console.Error.WriteLineAsync($"Refusing to start: {Describe(exception)}");
            return 78;
        }
    }

    // Several settings classes failing at once arrive together in an AggregateException.
    private static bool IsBadSetting(Exception exception) =>
        exception is StartupConfigurationException or OptionsValidationException
        || exception is AggregateException { InnerExceptions.Count: > 0 } all && all.InnerExceptions.All(IsBadSetting);

    private static string Describe(Exception exception) => exception switch
    {
        AggregateException all => string.Join(" ", all.InnerExceptions.Select(Describe)),
        // Its Message joins the failures with "; ", after sentences that already end in a full stop.
        OptionsValidationException invalid => string.Join(" ", invalid.Failures),
        _ => exception.Message,
    };

    public static async Task<int> RunCommandAsync(this WebApplication app, string command, IReadOnlyList<string> arguments)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Apptork.Root");
        switch (command)
        {
            case Serve:
                // Every setting is checked before anything is logged or started (the host would check them too, but
                // only after logging its own failure with a stack trace), so a bad one is reported in one sentence.
                app.Services.GetService<IStartupValidator>()?.Validate();
                var shape = app.Services.GetRequiredService<RuntimeShape>();
                var database = DescribeDatabase(app.Services);
                LogStarting(logger, shape.IsProduction ? "production" : "embedded", shape.Role, database);
                app.Lifetime.ApplicationStarted.Register(() =>
                {
                    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                    foreach (var address in addresses)
                    {
                        LogListening(logger, address, shape.Role.ServesApi() ? $"{address}/docs" : "(worker: no API)");
                    }
                });
                await StartListeningAsync(app);
                await app.WaitForShutdownAsync();
                return 0;
            case Migrate:
                var applied = await DatabaseMigrator.MigrateAsync(app.Services, CancellationToken.None);
                if (app.Services.GetRequiredService<RuntimeShape>().Database == DatabaseProvider.Postgres)
                {
                    JobsSetup.InstallPostgresSchema(app.Configuration);
                }

                foreach (var migration in applied)
                {
                    LogApplied(logger, migration);
                }

                if (applied.Count == 0)
                {
                    LogUpToDate(logger);
                }
                else
                {
                    LogMigrated(logger, applied.Count);
                }

                return 0;
            default:
                var featureCommands = app.Services.GetServices<IFeatureCommand>().ToList();
                if (featureCommands.FirstOrDefault(feature => feature.Name == command) is { } featureCommand)
                {
                    await using var scope = app.Services.CreateAsyncScope();
                    return await featureCommand.RunAsync(scope.ServiceProvider, arguments, CancellationToken.None);
                }

                var known = string.Join(" | ", featureCommands.Select(feature => feature.Name));
                LogUnknownCommand(logger, command, known);
                return 64;
        }
    }

    /// <summary>
    /// Starts the server; an address another process holds (typically a second role started on the same host with the
    /// same <c>Urls</c>) is a setting to change, so it is refused in one sentence naming it, not with Kestrel's stack trace.
    /// </summary>
    private static async Task StartListeningAsync(WebApplication app)
    {
        try
        {
            using (StartupFailureLog.Silence())
            {
                await app.StartAsync();
            }
        }
        catch (IOException exception) when (exception.InnerException is AddressInUseException)
        {
            // Kestrel forgets the addresses it failed on; the setting (or the default put there) still has them.
            throw new StartupConfigurationException(
                "Urls",
                $"is {app.Configuration[WebHostDefaults.ServerUrlsKey]}, which another process on this host is already listening on; "
                + "stop that process or set Urls to a free address (e.g. Urls=http://127.0.0.1:8002).");
        }
    }

    /// <summary>Where the data lives, without credentials: the first thing an operator checks.</summary>
    private static string DescribeDatabase(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var connection = scope.ServiceProvider.GetRequiredService<RootDbContext>().Database.GetDbConnection();
        return connection is Microsoft.Data.Sqlite.SqliteConnection sqlite
            ? $"SQLite file {sqlite.DataSource}"
            : $"PostgreSQL database '{connection.Database}' on {connection.DataSource}";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Apptork Root starting: {Shape} shape, role {Role}, {Database}")]
    private static partial void LogStarting(ILogger logger, string shape, ProcessRole role, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening on {Address}; API reference at {Docs}")]
    private static partial void LogListening(ILogger logger, string address, string docs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database migrated: {Count} migration(s) applied")]
    private static partial void LogMigrated(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database already up to date: no migration applied")]
    private static partial void LogUpToDate(ILogger logger);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Unknown command '{Command}'. Use: serve (default) | migrate | healthcheck | {FeatureCommands}")]
    private static partial void LogUnknownCommand(ILogger logger, string command, string featureCommands);
}

/// <summary>
/// A verb a feature adds to the binary (e.g. <c>reconcile</c>, <c>ban EMAIL</c>); it runs in a scope with the words that
/// follow it, and its result is the exit code.
/// </summary>
public interface IFeatureCommand
{
    string Name { get; }

    Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken);
}
