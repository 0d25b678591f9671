using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Apptork.Root.Platform.Persistence;

/// <summary>Used only by <c>dotnet ef migrations add</c>; neither connects to a database.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteRootDbContext>
{
    public SqliteRootDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteRootDbContext>()
            .UseSqlite(PersistenceSetup.DefaultSqliteConnectionString)
            .UseSnakeCaseNamingConvention()
            .Options);
}

public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresRootDbContext>
{
    public PostgresRootDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresRootDbContext>()
            .UseNpgsql("Host=localhost;Database=design_time_only")
            .UseSnakeCaseNamingConvention()
            .Options);
}
