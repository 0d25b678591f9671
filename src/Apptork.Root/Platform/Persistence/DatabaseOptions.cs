namespace Apptork.Root.Platform.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary><c>Database__Provider</c>; the connection strings are <c>ConnectionStrings__Sqlite</c> and <c>ConnectionStrings__Postgres</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}
