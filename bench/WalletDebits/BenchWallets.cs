using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace WalletDebits;

/// <summary>What the reconciliation after the runs found.</summary>
internal sealed record ReconciliationResult(long Wallets, long NegativeBalances, long DriftedWallets, long DebitEntries, long CreditsDebited)
{
    public bool IsBalanced(long debitsAnswered) =>
        NegativeBalances == 0 && DriftedWallets == 0 && DebitEntries == debitsAnswered && CreditsDebited == debitsAnswered;
}

/// <summary>The benchmark's users and wallets, written once before the runs and reconciled after them.</summary>
internal static class BenchWallets
{
    /// <summary>Far more than any run can take: a refused debit would measure the refusal, not the debit.</summary>
    public const long OpeningBalance = 1_000_000_000;

    /// <summary>
    /// Users with a wallet each, through the host's own context so the columns are the product's. Each opening balance
    /// is an ordinary ledger entry, so the product's reconciliation holds from the start.
    /// </summary>
    public static async Task<IReadOnlyList<User>> SeedAsync(IServiceProvider services, int count)
    {
        var now = TimeProvider.System.GetUtcNow();
        var users = Enumerable.Range(0, count).Select(_ => NewUser(now)).ToList();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        db.Users.AddRange(users);
        db.Wallets.AddRange(users.Select(user => new Wallet(user.Id, OpeningBalance, now)));
        db.LedgerEntries.AddRange(users.Select(user => new LedgerEntry(
            user.Id, OpeningBalance, 0, OpeningBalance, LedgerEntryKind.Adjustment, "bench-opening-balance", reference: null, "bench", "opening balance", now)));
        await db.SaveChangesAsync();
        return users;
    }

    /// <summary>
    /// The product's own reconciliation (balance = sum of entries, unbroken balance_after chain) and, from the rows,
    /// that no balance went negative and that every answered debit took exactly one credit.
    /// </summary>
    public static async Task<ReconciliationResult> ReconcileAsync(IServiceProvider services, NpgsqlDataSource dataSource)
    {
        await using var scope = services.CreateAsyncScope();
        var drifts = await scope.ServiceProvider.GetRequiredService<LedgerReconciliation>().CheckAsync(CancellationToken.None);
        await using var command = dataSource.CreateCommand(
            """
            SELECT count(*), count(*) FILTER (WHERE balance < 0), coalesce(sum($1 - balance), 0)::bigint,
                   (SELECT count(*) FROM ledger_entries WHERE amount < 0)
            FROM wallets WHERE user_id <> $2
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = OpeningBalance });
        // The system accounts (the payment shortfall wallet) start empty and take no debits.
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = SystemAccounts.Shortfall });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new ReconciliationResult(reader.GetInt64(0), reader.GetInt64(1), drifts.Count, reader.GetInt64(3), reader.GetInt64(2));
    }

    private static User NewUser(DateTimeOffset now)
    {
        var user = new User { Id = Guid.CreateVersion7(), EmailConfirmed = true, CreatedAt = now };
        user.UserName = user.Id.ToString("N");
        user.Email = $"bench-{user.UserName}@example.com";
        user.NormalizedEmail = user.Email;
        return user;
    }
}
