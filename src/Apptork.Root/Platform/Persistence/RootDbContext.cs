using Apptork.Root.Features.Fraud;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// The application's one database context. Each provider has its own subclass only so that EF Core keeps one
/// set of migrations per provider (migrations are bound to a context type); the model is the same.
/// </summary>
public abstract class RootDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>ASP.NET Core Data Protection keys, shared by every process through the database.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<EmailDomainRule> EmailDomainRules => Set<EmailDomainRule>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Each feature adds its entities' IEntityTypeConfiguration here, one explicit line each.
        modelBuilder.ApplyConfiguration(new EmailDomainRuleConfiguration());
    }
}

public sealed class SqliteRootDbContext(DbContextOptions<SqliteRootDbContext> options) : RootDbContext(options);

public sealed class PostgresRootDbContext(DbContextOptions<PostgresRootDbContext> options) : RootDbContext(options);
