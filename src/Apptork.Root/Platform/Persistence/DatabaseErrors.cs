using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// Recognizes constraint violations that features turn into answers (an idempotent replay, a taken name), the one
/// place that knows how each provider reports them.
/// </summary>
public static class DatabaseErrors
{
    // https://www.postgresql.org/docs/current/errcodes-appendix.html
    private const string PostgresUniqueViolation = "23505";
    private const string PostgresForeignKeyViolation = "23503";

    // https://www.sqlite.org/rescode.html#constraint_unique and #constraint_primarykey
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintPrimaryKey = 1555;

    // https://www.sqlite.org/rescode.html#constraint_foreignkey
    private const int SqliteConstraintForeignKey = 787;

    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException is { } inner && IsUniqueViolation(inner);

    /// <summary>The same, for a command run by hand (the provider's own exception).</summary>
    public static bool IsUniqueViolation(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState == PostgresUniqueViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
        _ => false,
    };

    /// <summary>A row refers to one that is gone (deleted meanwhile by another request).</summary>
    public static bool IsForeignKeyViolation(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException postgres => postgres.SqlState == PostgresForeignKeyViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode == SqliteConstraintForeignKey,
        _ => false,
    };
}
