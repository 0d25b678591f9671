using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql;
using NpgsqlTypes;

namespace Apptork.Root.Features.Wallet;

/// <summary>What a posting stored: the entry's id and the balance it left.</summary>
public readonly record struct StoredPosting(long EntryId, long BalanceAfter);

/// <summary>
/// The Ledger's one write, a conditional balance update and the entry that explains it, in each provider's cheapest
/// atomic form. Written by hand because EF Core can neither return the updated balance nor put both in one statement,
/// and this is the hottest write of the product (bench/wallet-debits.sh measures it); the Ledger's tests run on both.
/// </summary>
public interface IWalletPostingSql
{
    /// <summary>
    /// Moves the balance and the held credits and inserts the entry, inside <paramref name="transaction"/> when given.
    /// Null when no wallet row matched (missing, or a debit or hold beyond the available credits, balance − held):
    /// nothing changed. A reused idempotency key throws the provider's unique violation, with nothing changed either.
    /// </summary>
    Task<StoredPosting?> TryPostAsync(
        DbConnection connection, DbTransaction? transaction, Guid userId, long amount, long heldChange, string kind, string idempotencyKey,
        string? reference, string? operatorName, string? memo, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// An empty wallet for the user unless one exists, inside <paramref name="transaction"/> when given. An existing row,
    /// even one a concurrent transaction is creating, is no error (the insert waits for it and then does nothing): on
    /// PostgreSQL an error would abort the caller's transaction.
    /// </summary>
    Task CreateWalletAsync(DbConnection connection, DbTransaction? transaction, Guid userId, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>
/// One statement: the UPDATE locks the wallet row and checks the funds, the INSERT takes the balance it returned, and
/// the statement is atomic on its own, so a posting outside a transaction is one round trip and a unique violation undoes
/// the update with it. The row lock is held until commit, so entries of a wallet are numbered in balance order.
/// </summary>
public sealed class PostgresWalletPostingSql : IWalletPostingSql
{
    private const string Sql = """
        WITH moved AS (
            UPDATE wallets SET balance = balance + $2, held = held + $9, updated_at = $8
            WHERE user_id = $1 AND balance + $2 >= held + $9
            RETURNING balance)
        INSERT INTO ledger_entries (user_id, amount, held_change, balance_after, kind, idempotency_key, reference, operator, memo, created_at)
        SELECT $1, $2, $9, balance, $3, $4, $5, $6, $7, $8 FROM moved
        RETURNING id, balance_after
        """;

    public async Task<StoredPosting?> TryPostAsync(
        DbConnection connection, DbTransaction? transaction, Guid userId, long amount, long heldChange, string kind, string idempotencyKey,
        string? reference, string? operatorName, string? memo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, (NpgsqlConnection)connection, (NpgsqlTransaction?)transaction)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid> { TypedValue = userId },
                new NpgsqlParameter<long> { TypedValue = amount },
                new NpgsqlParameter<string> { TypedValue = kind },
                new NpgsqlParameter<string> { TypedValue = idempotencyKey },
                Text(reference),
                Text(operatorName),
                Text(memo),
                new NpgsqlParameter<DateTimeOffset> { TypedValue = now },
                new NpgsqlParameter<long> { TypedValue = heldChange },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new StoredPosting(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    public async Task CreateWalletAsync(DbConnection connection, DbTransaction? transaction, Guid userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO wallets (user_id, balance, held, updated_at) VALUES ($1, 0, 0, $2) ON CONFLICT (user_id) DO NOTHING",
            (NpgsqlConnection)connection, (NpgsqlTransaction?)transaction)
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = userId }, new NpgsqlParameter<DateTimeOffset> { TypedValue = now } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter<string?> Text(string? value) => new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };
}

/// <summary>
/// Two statements (SQLite has no data-modifying CTE) in one write transaction: BEGIN IMMEDIATE takes the database's
/// single writer lock first, so postings are serialized and the balance read back is this posting's own.
/// </summary>
public sealed class SqliteWalletPostingSql : IWalletPostingSql
{
    private const string Update = """
        UPDATE wallets SET balance = balance + $amount, held = held + $held, updated_at = $now
        WHERE user_id = $user AND balance + $amount >= held + $held
        RETURNING balance
        """;

    private const string Insert = """
        INSERT INTO ledger_entries (user_id, amount, held_change, balance_after, kind, idempotency_key, reference, operator, memo, created_at)
        VALUES ($user, $amount, $held, $balance, $kind, $key, $reference, $operator, $memo, $now)
        RETURNING id
        """;

    // The model stores times as 64-bit numbers on SQLite (SqliteRootDbContext); raw SQL must write them the same way.
    private static readonly DateTimeOffsetToBinaryConverter Times = new();

    public async Task<StoredPosting?> TryPostAsync(
        DbConnection connection, DbTransaction? transaction, Guid userId, long amount, long heldChange, string kind, string idempotencyKey,
        string? reference, string? operatorName, string? memo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sqlite = (SqliteConnection)connection;
        var own = transaction is null ? (SqliteTransaction)await sqlite.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            var active = (SqliteTransaction)(transaction ?? own)!;
            // EF Core stores GUIDs on SQLite as upper-case text.
            var user = userId.ToString().ToUpperInvariant();
            var storedNow = (long)Times.ConvertToProvider(now)!;
            long balance;
            await using (var update = new SqliteCommand(Update, sqlite, active))
            {
                update.Parameters.AddWithValue("$amount", amount);
                update.Parameters.AddWithValue("$held", heldChange);
                update.Parameters.AddWithValue("$now", storedNow);
                update.Parameters.AddWithValue("$user", user);
                if (await update.ExecuteScalarAsync(cancellationToken) is not long updated)
                {
                    return null;
                }

                balance = updated;
            }

            await using var insert = new SqliteCommand(Insert, sqlite, active);
            insert.Parameters.AddWithValue("$user", user);
            insert.Parameters.AddWithValue("$amount", amount);
            insert.Parameters.AddWithValue("$held", heldChange);
            insert.Parameters.AddWithValue("$balance", balance);
            insert.Parameters.AddWithValue("$kind", kind);
            insert.Parameters.AddWithValue("$key", idempotencyKey);
            insert.Parameters.AddWithValue("$reference", (object?)reference ?? DBNull.Value);
            insert.Parameters.AddWithValue("$operator", (object?)operatorName ?? DBNull.Value);
            insert.Parameters.AddWithValue("$memo", (object?)memo ?? DBNull.Value);
            insert.Parameters.AddWithValue("$now", storedNow);
            var id = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }

            return new StoredPosting(id, balance);
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    public async Task CreateWalletAsync(DbConnection connection, DbTransaction? transaction, Guid userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new SqliteCommand(
            "INSERT INTO wallets (user_id, balance, held, updated_at) VALUES ($user, 0, 0, $now) ON CONFLICT (user_id) DO NOTHING",
            (SqliteConnection)connection, (SqliteTransaction?)transaction);
        command.Parameters.AddWithValue("$user", userId.ToString().ToUpperInvariant());
        command.Parameters.AddWithValue("$now", (long)Times.ConvertToProvider(now)!);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
