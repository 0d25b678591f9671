using Npgsql;

namespace WalletDebits;

/// <summary>
/// The baseline: the statement <c>Ledger.PostAsync</c> runs for a debit on PostgreSQL (PostgresWalletPostingSql: the
/// conditional update and the entry insert in one statement), hand-written here with nothing around it: a pooled
/// connection, the statement, the answer.
/// </summary>
internal sealed class RawSqlLedger(NpgsqlDataSource dataSource)
{
    private const string Debit = """
        WITH moved AS (
            UPDATE wallets SET balance = balance + $2, updated_at = $5
            WHERE user_id = $1 AND balance + $2 >= 0
            RETURNING balance)
        INSERT INTO ledger_entries (user_id, amount, balance_after, kind, idempotency_key, reference, operator, memo, created_at)
        SELECT $1, $2, balance, $3, $4, NULL, NULL, NULL, $5 FROM moved
        RETURNING id, balance_after
        """;

    private const string GenerationKind = "generation";

    public async Task DebitAsync(Guid userId, string idempotencyKey)
    {
        await using var command = dataSource.CreateCommand(Debit);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = -1 });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = GenerationKind });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idempotencyKey });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = TimeProvider.System.GetUtcNow() });
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new InvalidOperationException($"The raw SQL debit found no wallet able to pay for user {userId}.");
        }
    }
}
