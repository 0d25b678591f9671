using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Wallet;

/// <summary>
/// A wallet whose books do not add up: its balance differs from the sum of its entries' amounts, its held credits from
/// the sum of their held changes, or an entry's balance_after is not the previous entry's plus its amount
/// (<see cref="FirstBrokenEntryId"/>, the earliest such entry).
/// </summary>
public sealed record LedgerDrift(Guid UserId, long Balance, long SumOfEntries, long Held, long SumOfHeldChanges, long? FirstBrokenEntryId);

/// <summary>
/// Proves the ledger's invariants from the stored rows alone, independently of the code that wrote them: for every
/// wallet, balance = sum of its entries' amounts, held = sum of their held changes, and the balance_after chain (in id
/// order, starting at 0) is unbroken.
/// </summary>
public sealed class LedgerReconciliation(RootDbContext db)
{
    /// <summary>Every wallet that drifted; empty when the books are right.</summary>
    /// <remarks>
    /// One SQL statement, so it reads one consistent snapshot on both providers while postings go on, without
    /// taking SQLite's writer lock or loading the ledger into memory. Each entry finds its predecessor through the
    /// (user_id, id) index. Every entry has a wallet row (foreign key), so starting from the wallets misses none.
    /// </remarks>
    public async Task<IReadOnlyList<LedgerDrift>> CheckAsync(CancellationToken cancellationToken)
    {
        var entries = db.LedgerEntries;
        return await db.Wallets.AsNoTracking()
            .Select(wallet => new
            {
                wallet.UserId,
                wallet.Balance,
                SumOfEntries = entries.Where(entry => entry.UserId == wallet.UserId).Sum(entry => (long?)entry.Amount) ?? 0,
                wallet.Held,
                SumOfHeldChanges = entries.Where(entry => entry.UserId == wallet.UserId).Sum(entry => (long?)entry.HeldChange) ?? 0,
                FirstBrokenEntryId = entries
                    .Where(entry => entry.UserId == wallet.UserId
                        && entry.BalanceAfter - entry.Amount != (entries
                            .Where(previous => previous.UserId == entry.UserId && previous.Id < entry.Id)
                            .OrderByDescending(previous => previous.Id)
                            .Select(previous => (long?)previous.BalanceAfter)
                            .FirstOrDefault() ?? 0))
                    .Min(entry => (long?)entry.Id),
            })
            .Where(wallet => wallet.Balance != wallet.SumOfEntries || wallet.Held != wallet.SumOfHeldChanges || wallet.FirstBrokenEntryId != null)
            .OrderBy(wallet => wallet.UserId)
            .Select(wallet => new LedgerDrift(wallet.UserId, wallet.Balance, wallet.SumOfEntries, wallet.Held, wallet.SumOfHeldChanges, wallet.FirstBrokenEntryId))
            .ToListAsync(cancellationToken);
    }
}
