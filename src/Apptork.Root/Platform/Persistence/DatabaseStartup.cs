using Apptork.Root.Platform.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// Before anything else starts: the embedded shape creates and migrates its SQLite file by itself; the production
/// shape never changes a shared schema implicitly, and refuses to start on a database the <c>migrate</c> command
/// has not brought up to date (several processes racing to migrate one database is how outages start).
/// </summary>
public sealed partial class DatabaseStartup(IServiceProvider services, RuntimeShape shape, ILogger<DatabaseStartup> logger)
    : IHostedLifecycleService
{
    private const string QuotedHistoryTable = $"\"{HistoryRepository.DefaultTableName}\"";

    private static Task<bool> HasHistoryTableAsync(RootDbContext db, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<bool>($"SELECT to_regclass({QuotedHistoryTable}) IS NOT NULL AS \"Value\"").SingleAsync(cancellationToken);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (shape.IsEmbedded)
        {
            var applied = await DatabaseMigrator.MigrateAsync(services, cancellationToken);
            if (applied.Count > 0)
            {
                var names = string.Join(", ", applied);
                LogMigrated(logger, applied.Count, names);
            }

            return;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        // On a database never migrated, EF Core would read the missing history table and log that as a failed command
        // just before the refusal below says what to do; the catalog answers whether the table is there without a failure.
        // (Npgsql's IHistoryRepository.ExistsAsync was tried: it too logs a failed command on a database never migrated.)
        var pending = await HasHistoryTableAsync(db, cancellationToken)
            ? (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList()
            : db.Database.GetMigrations().ToList();
        if (pending.Count > 0)
        {
            throw new StartupConfigurationException(
                "ConnectionStrings__Postgres",
                $"points at a database that lacks {pending.Count} migration(s) ({string.Join(", ", pending)}); run `Apptork.Root migrate` with the same settings first.");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded database migrated: {Count} migration(s) applied ({Migrations})")]
    private static partial void LogMigrated(ILogger logger, int count, string migrations);
}

public static class DatabaseMigrator
{
    /// <summary>Applies pending migrations and returns their names; the code path of both the <c>migrate</c> command and the embedded start.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        // EF Core learns that the history table is missing by reading it, and logs that read as a failed command: on a
        // fresh database the operator would see errors before a success. Created first, the table is never missing.
        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            // WAL lets readers proceed while one writer commits; the setting is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        return pending;
    }
}
