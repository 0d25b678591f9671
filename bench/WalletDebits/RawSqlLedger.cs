using Npgsql;

namespace WalletDebits;

/// <summary>
/// The baseline: the statements <c>Ledger.PostAsync</c> runs for a debit, hand-written, with nothing around them. One
/// transaction per debit; the conditional update, the balance read and the entry insert each a round trip, as there.
/// </summary>
internal sealed class RawSqlLedger(NpgsqlDataSource dataSource)
{
    private const string Update =
        "UPDATE wallets SET balance = balance + $1, updated_at = $2 WHERE user_id = $3 AND balance + $1 >= 0";

    private const string ReadBalance = "SELECT balance FROM wallets WHERE user_id = $1";

    private const string InsertEntry =
        """
        INSERT INTO ledger_entries (user_id, amount, balance_after, kind, idempotency_key, reference, operator, memo, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING id
        """;

    private const string GenerationKind = "generation";

    public async Task DebitAsync(Guid userId, string idempotencyKey)
    {
        const long amount = -1;
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var now = TimeProvider.System.GetUtcNow();

        await using (var update = new NpgsqlCommand(Update, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = amount });
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
            if (await update.ExecuteNonQueryAsync() != 1)
            {
                throw new InvalidOperationException($"The raw SQL debit found no wallet able to pay for user {userId}.");
            }
        }

        long balanceAfter;
        await using (var read = new NpgsqlCommand(ReadBalance, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
            balanceAfter = (long)(await read.ExecuteScalarAsync())!;
        }

        await using (var insert = new NpgsqlCommand(InsertEntry, connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = amount });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = balanceAfter });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = GenerationKind });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idempotencyKey });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = null });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = null });
            insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = null });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            await insert.ExecuteScalarAsync();
        }

        await transaction.CommitAsync();
    }
}
