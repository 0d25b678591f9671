using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>
/// Fresh, migrated databases for one test each. PostgreSQL ones are copies of a template that the real
/// <c>migrate</c> command brought up to date once per run (CREATE DATABASE ... TEMPLATE takes milliseconds,
/// migrating each database would take a second).
/// </summary>
public sealed class TestDatabases
{
    private static readonly Lock InstancesLock = new();
    private static readonly Dictionary<PostgresServer, TestDatabases> Instances = [];
    private readonly PostgresServer postgres;
    private readonly Lazy<Task<string>> template;

    private TestDatabases(PostgresServer postgres)
    {
        this.postgres = postgres;
        template = new(CreateTemplateAsync);
    }

    /// <summary>One per server, so the whole run shares one migrated template.</summary>
    public static TestDatabases For(PostgresServer postgres)
    {
        lock (InstancesLock)
        {
            if (!Instances.TryGetValue(postgres, out var databases))
            {
                databases = new TestDatabases(postgres);
                Instances[postgres] = databases;
            }

            return databases;
        }
    }

    public async Task<string> CreateAsync(DatabaseShape shape, string? label = null) => shape switch
    {
        DatabaseShape.Sqlite => CreateSqlite(label),
        DatabaseShape.Postgres => await CreatePostgresAsync(label),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    /// <summary>A new SQLite file path; the application creates and migrates it at start, as in the embedded shape.</summary>
    public static string CreateSqlite(string? label = null)
    {
        var directory = Directory.CreateTempSubdirectory("apptork-sqlite-");
        return new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory.FullName, $"{label ?? "test"}.db") }.ConnectionString;
    }

    public async Task<string> CreatePostgresAsync(string? label = null)
    {
        var templateName = await template.Value;
        var name = $"{label ?? "test"}_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(postgres.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{templateName}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>An empty PostgreSQL database, for tests of the migrate command itself.</summary>
    public Task<string> CreateEmptyPostgresAsync(string? label = null) => postgres.CreateDatabaseAsync(label);

    private async Task<string> CreateTemplateAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync("template");
        await MigrateWithCommandAsync(connectionString);
        return new NpgsqlConnectionStringBuilder(connectionString).Database!;
    }

    /// <summary>Runs <c>Apptork.Root migrate</c> against a PostgreSQL database, failing with its output.</summary>
    public static async Task<RootProcess.Result> MigrateWithCommandAsync(string connectionString)
    {
        // No pooling: the process must leave no connection behind, or the database cannot serve as a template.
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        var result = await RootProcess.RunAsync(
            ["migrate"],
            new Dictionary<string, string> { ["Database__Provider"] = "Postgres", ["ConnectionStrings__Postgres"] = unpooled },
            TimeSpan.FromSeconds(60));
        return result.ExitCode == 0
            ? result
            : throw new InvalidOperationException($"migrate failed with exit code {result.ExitCode}:\n{result.Output}");
    }

    /// <summary>
    /// An empty database of the shape migrated up to the migration just before the one named <paramref name="migrationSuffix"/>
    /// (e.g. <c>_Translations</c>), and a context on it, for writing rows the way they were written before that migration.
    /// </summary>
    public async Task<(string ConnectionString, RootDbContext Context)> BeforeMigrationAsync(DatabaseShape shape, string migrationSuffix, string label)
    {
        var connectionString = shape == DatabaseShape.Sqlite ? CreateSqlite(label) : await CreateEmptyPostgresAsync(label);
        var db = Context(shape, connectionString);
        var migrations = db.Database.GetMigrations().ToList();
        var before = migrations[migrations.FindIndex(name => name.EndsWith(migrationSuffix, StringComparison.Ordinal)) - 1];
        await db.GetService<IMigrator>().MigrateAsync(before, TestContext.Current.CancellationToken);
        return (connectionString, db);
    }

    /// <summary>A context of the shape's provider on a database, unpooled so that nothing stays connected after it.</summary>
    public static RootDbContext Context(DatabaseShape shape, string connectionString) => shape == DatabaseShape.Sqlite
        ? new SqliteRootDbContext(new DbContextOptionsBuilder<SqliteRootDbContext>().UseSqlite(connectionString).UseSnakeCaseNamingConvention().Options)
        : new PostgresRootDbContext(new DbContextOptionsBuilder<PostgresRootDbContext>()
            .UseNpgsql(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString).UseSnakeCaseNamingConvention().Options);
}
