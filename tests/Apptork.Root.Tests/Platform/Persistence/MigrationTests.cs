using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Persistence;

/// <summary>Both providers' migrations build the same schema from nothing, and match the current model.</summary>
public sealed class MigrationTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrate_command_brings_an_empty_postgres_database_up_to_date_and_is_idempotent()
    {
        var databases = TestDatabases.For(postgres);
        var connectionString = await databases.CreateEmptyPostgresAsync("migrate");

        var first = await TestDatabases.MigrateWithCommandAsync(connectionString);
        first.Output.ShouldContain("migration(s) applied");
        var second = await TestDatabases.MigrateWithCommandAsync(connectionString);
        second.Output.ShouldContain("already up to date");

        await using var db = Postgres(connectionString);
        (await db.Database.GetPendingMigrationsAsync(Cancel)).ShouldBeEmpty();
        (await db.Database.GetAppliedMigrationsAsync(Cancel)).ShouldBe(db.Database.GetMigrations());
    }

    [Fact]
    public async Task Embedded_start_creates_and_migrates_its_sqlite_file()
    {
        var connectionString = TestDatabases.CreateSqlite("embedded");
        await using (var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            new Dictionary<string, string?> { ["ConnectionStrings:Sqlite"] = connectionString }))
        {
            using var ready = await app.Client().GetAsync("/healthz/ready", Cancel);
            ready.IsSuccessStatusCode.ShouldBeTrue();
        }

        await using var db = Sqlite(connectionString);
        (await db.Database.GetPendingMigrationsAsync(Cancel)).ShouldBeEmpty();
        (await db.Database.GetAppliedMigrationsAsync(Cancel)).ShouldNotBeEmpty();
    }

    [Fact, Fast]
    public void Each_provider_has_migrations_matching_the_model()
    {
        using var sqlite = Sqlite("Data Source=:memory:");
        using var npgsql = Postgres("Host=127.0.0.1;Database=unused");
        sqlite.Database.HasPendingModelChanges().ShouldBeFalse("SQLite migrations lag the model: add a migration for both providers");
        npgsql.Database.HasPendingModelChanges().ShouldBeFalse("PostgreSQL migrations lag the model: add a migration for both providers");
        sqlite.Database.GetMigrations().ShouldNotBeEmpty();
        npgsql.Database.GetMigrations().ShouldNotBeEmpty();
    }

    [Fact, Fast]
    public void Both_providers_agree_on_tables_columns_keys_and_indexes()
    {
        using var sqlite = Sqlite("Data Source=:memory:");
        using var npgsql = Postgres("Host=127.0.0.1;Database=unused");
        Describe(sqlite.GetService<IDesignTimeModel>().Model).ShouldBe(Describe(npgsql.GetService<IDesignTimeModel>().Model));
    }

    /// <summary>Provider-neutral description of the schema: names, nullability, keys, indexes and check constraints.</summary>
    private static string[] Describe(IModel model) =>
        model.GetRelationalModel().Tables.SelectMany(table =>
            table.Columns.Select(column => $"{table.Name}.{column.Name} null={column.IsNullable}")
                .Concat(table.UniqueConstraints.Select(key => $"{table.Name} unique {key.Name} ({string.Join(",", key.Columns.Select(column => column.Name))})"))
                .Concat(table.Indexes.Select(index => $"{table.Name} index {index.Name} unique={index.IsUnique} ({string.Join(",", index.Columns.Select(column => column.Name))}) filter={index.Filter is not null}"))
                .Concat(table.ForeignKeyConstraints.Select(foreignKey => $"{table.Name} fk {foreignKey.Name} -> {foreignKey.PrincipalTable.Name} {foreignKey.OnDeleteAction}"))
                .Concat(table.CheckConstraints.Select(check => $"{table.Name} check {check.Name}")))
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static SqliteRootDbContext Sqlite(string connectionString) =>
        new(new DbContextOptionsBuilder<SqliteRootDbContext>().UseSqlite(connectionString).UseSnakeCaseNamingConvention().Options);

    private static PostgresRootDbContext Postgres(string connectionString) =>
        new(new DbContextOptionsBuilder<PostgresRootDbContext>().UseNpgsql(new NpgsqlConnectionStringBuilder(connectionString).ConnectionString).UseSnakeCaseNamingConvention().Options);
}
