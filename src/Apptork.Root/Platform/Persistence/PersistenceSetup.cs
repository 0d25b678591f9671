using Apptork.Root.Platform.Configuration;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Apptork.Root.Platform.Persistence;

public static class PersistenceSetup
{
    public const string DefaultSqliteConnectionString = "Data Source=data/apptork-root.db";

    public static IServiceCollection AddPersistence(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var shape = RuntimeShape.From(configuration);
        if (shape.Database == DatabaseProvider.Postgres)
        {
            var connectionString = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new StartupConfigurationException(
                    "ConnectionStrings__Postgres",
                    "is required when Database__Provider=Postgres (e.g. Host=db;Database=apptork;Username=apptork;Password=...).");
            }

            RefuseWellKnownPassword(connectionString);
            services.AddDbContextPool<RootDbContext, PostgresRootDbContext>(options => options
                .UseNpgsql(connectionString)
                .UseSnakeCaseNamingConvention());
        }
        else
        {
            var connectionString = ResolveSqlite(configuration.GetConnectionString("Sqlite") ?? DefaultSqliteConnectionString, environment.ContentRootPath);
            services.AddDbContextPool<RootDbContext, SqliteRootDbContext>(options => options
                .UseSqlite(connectionString)
                .UseSnakeCaseNamingConvention());
        }

        var keyRing = services.AddDataProtection()
            .SetApplicationName("apptork-root")
            .PersistKeysToDbContext<RootDbContext>();
        if ((configuration.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions()).LoadCertificate(environment.ContentRootPath) is { } certificate)
        {
            keyRing.ProtectKeysWithCertificate(certificate);
        }

        services.AddHostedService<DatabaseStartup>();
        return services;
    }

    /// <summary>
    /// A password from a tutorial or a compose file is the first thing an attacker tries. No password at all is
    /// allowed: peer, certificate and cloud IAM authentication have none.
    /// </summary>
    private static void RefuseWellKnownPassword(string connectionString)
    {
        string? password;
        try
        {
            password = new NpgsqlConnectionStringBuilder(connectionString).Password;
        }
        catch (ArgumentException exception)
        {
            throw new StartupConfigurationException("ConnectionStrings__Postgres", $"is not a valid PostgreSQL connection string ({exception.Message}).");
        }

        if (password is not null && WellKnownPasswords.Contains(password))
        {
            throw new StartupConfigurationException(
                "ConnectionStrings__Postgres", "uses a well-known default password; give the database user a generated one.");
        }
    }

    private static readonly HashSet<string> WellKnownPasswords = new(StringComparer.OrdinalIgnoreCase)
    {
        "postgres", "password", "pass", "secret", "changeme", "change-me", "admin", "root", "apptork", "123456", "12345678", "test",
    };

    /// <summary>
    /// A file kept beside the embedded database, named after it: <c>data/apptork-root.db</c> and the suffix <c>-jobs.db</c>
    /// give <c>data/apptork-root-jobs.db</c>.
    /// </summary>
    public static string BesideSqliteDatabase(IConfiguration configuration, IHostEnvironment environment, string suffix)
    {
        var database = new SqliteConnectionStringBuilder(ResolveSqlite(
            configuration.GetConnectionString("Sqlite") ?? DefaultSqliteConnectionString, environment.ContentRootPath)).DataSource;
        return Path.Combine(Path.GetDirectoryName(database)!, $"{Path.GetFileNameWithoutExtension(database)}{suffix}");
    }

    /// <summary>
    /// A relative SQLite path is taken from the content root (where the process was started), and its folder and file
    /// are created, private (<see cref="PrivateFiles"/>), so the embedded shape needs no set-up.
    /// </summary>
    internal static string ResolveSqlite(string connectionString, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DataSource is { Length: > 0 } dataSource && dataSource != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            var path = Path.GetFullPath(dataSource, contentRoot);
            PrivateFiles.CreateEmptyFile(path);
            builder.DataSource = path;
        }

        // Writers wait for each other instead of failing with "database is locked".
        builder.DefaultTimeout = Math.Max(builder.DefaultTimeout, 30);
        return builder.ToString();
    }
}
