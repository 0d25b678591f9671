using System.Data.Common;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Apptork.Root.Features.Wallet;

/// <summary>The entry a posting wrote, or the one an earlier posting with the same idempotency key wrote.</summary>
public sealed record LedgerPosting(LedgerEntry Entry, bool IsReplay);

/// <summary>Credits taken back from a wallet, and those it no longer had, booked to the shortfall account instead.</summary>
public sealed record Reclaimed(long Taken, long Shortfall);

/// <summary>
/// The only code that changes a wallet's balance. Each posting is atomic: a conditional update of the wallet row and
/// the ledger entry carrying the resulting balance (<see cref="IWalletPostingSql"/>: one statement on PostgreSQL, one
/// transaction on SQLite). The balance therefore always equals the sum of the entries, and a posting either happened
/// entirely or not at all, whatever crashes or retries.
/// </summary>
/// <remarks>
/// Concurrency technique: a conditional update (<c>UPDATE wallets SET balance = balance + @amount, held = held + @held
/// WHERE user_id = @u AND balance + @amount &gt;= held + @held</c>: what remains available covers the debit or hold) rather than reading the row under a lock (<c>SELECT … FOR UPDATE</c>) and
/// deciding in code. On PostgreSQL the update locks the row and checks the funds in one statement and one round trip;
/// a concurrent posting to the same wallet waits for that lock and then re-evaluates the condition on the committed
/// balance (READ COMMITTED re-checks updated rows), so it can never overdraw, and postings to different wallets never
/// wait for each other. SQLite has no row locks and no FOR UPDATE: a write transaction starts with BEGIN IMMEDIATE
/// (Microsoft.Data.Sqlite's default), which takes the database's single writer lock, so postings are serialized
/// and the same condition is trivially correct there. The row lock (or the writer
/// lock) is held until commit, so the balance read after the update is this posting's own and entries of a wallet
/// are inserted, and numbered, in the order their balances were computed: the balance_after chain follows the ids.
/// </remarks>
public sealed class Ledger(RootDbContext db, IWalletPostingSql statements, TimeProvider time)
{
    /// <summary>
    /// Adds <paramref name="amount"/> credits (negative: takes them) to the user's wallet and records why; a credit
    /// creates the wallet where there is none. Inside the caller's transaction (<c>db.Database.BeginTransactionAsync</c>)
    /// the posting commits or rolls back with the caller's own writes; otherwise it is atomic on its own.
    /// A second posting with the same <paramref name="idempotencyKey"/> for the user changes nothing and returns the
    /// first entry; with a different amount, kind or reference it is <c>idempotency_key_reused</c>. Inside a transaction,
    /// the caller makes the key unique to what it holds (a row it inserted or locked): a key reused there fails the
    /// statement, which on PostgreSQL aborts the caller's transaction.
    /// </summary>
    /// <exception cref="ApiException"><c>invalid_credit</c> (402, attr <c>credits</c>) when the available credits (balance − held) cannot cover a debit.</exception>
    public Task<LedgerPosting> PostAsync(
        Guid userId, long amount, LedgerEntryKind kind, string idempotencyKey, string? reference, string? @operator, string? memo,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(amount);
        return PostAsync(userId, amount, heldChange: 0, kind, idempotencyKey, reference, @operator, memo, cancellationToken);
    }

    /// <summary>
    /// Sets <paramref name="credits"/> of the user's balance aside for an operation under way, whose most it can cost
    /// they are: the balance is unchanged, but nothing else may spend them until <see cref="SettleAsync"/>. Idempotent
    /// under its key, as <see cref="PostAsync(Guid, long, LedgerEntryKind, string, string?, string?, string?, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ApiException"><c>invalid_credit</c> (402, attr <c>credits</c>) when the available credits (balance − held) cannot cover it.</exception>
    public Task<LedgerPosting> HoldAsync(Guid userId, long credits, string idempotencyKey, string reference, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(credits);
        return PostAsync(userId, amount: 0, heldChange: credits, LedgerEntryKind.Hold, idempotencyKey, reference, @operator: null, memo: null, cancellationToken);
    }

    /// <summary>
    /// Ends a hold of <paramref name="held"/> credits inside the caller's transaction: <paramref name="charge"/> of them
    /// are taken (an entry of <paramref name="chargeKind"/>, which also lowers the held credits) and the rest released
    /// (a <c>release</c> entry); either is left out when it would be zero. Never fails for want of credits: held ones
    /// cannot have been spent. The caller holds a lock on what the keys belong to (the generation's row).
    /// </summary>
    public async Task SettleAsync(
        Guid userId, long held, long charge, LedgerEntryKind chargeKind, string chargeKey, string releaseKey, string reference, string? memo,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(charge);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(charge, held);
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A hold is settled inside the caller's transaction, with the outcome that settles it.");
        }

        if (charge > 0)
        {
            await PostAsync(userId, -charge, -charge, chargeKind, chargeKey, reference, @operator: null, memo, cancellationToken);
        }

        if (held > charge)
        {
            await PostAsync(userId, amount: 0, heldChange: charge - held, LedgerEntryKind.Release, releaseKey, reference, @operator: null, memo, cancellationToken);
        }
    }

    private async Task<LedgerPosting> PostAsync(
        Guid userId, long amount, long heldChange, LedgerEntryKind kind, string idempotencyKey, string? reference, string? @operator, string? memo,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);

        // No look-up for an earlier posting first: a fresh key is the common case, and a replay is recognized by the
        // unique index, the posting's statement then changing nothing.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            // Two rounds at most: a credit to a user without a wallet row creates the row, then posts.
            for (var round = 0; ; round++)
            {
                LedgerEntry? entry;
                try
                {
                    entry = await ApplyAsync(userId, amount, heldChange, kind, idempotencyKey, reference, @operator, memo, cancellationToken);
                }
                catch (DbException exception) when (DatabaseErrors.IsUniqueViolation(exception) && db.Database.CurrentTransaction is null)
                {
                    // A replay, or the same key committed first while this one waited for the wallet (PostgreSQL made the insert wait).
                    return await FindReplayAsync(userId, idempotencyKey, amount, heldChange, kind, reference, cancellationToken)
                        ?? throw new InvalidOperationException("A unique violation on a ledger entry without a committed entry for its key.", exception);
                }

                if (entry is not null)
                {
                    return new LedgerPosting(entry, IsReplay: false);
                }

                // A replay of a debit the balance no longer covers is answered with its entry, not refused.
                if (await FindReplayAsync(userId, idempotencyKey, amount, heldChange, kind, reference, cancellationToken) is { } earlier)
                {
                    return earlier;
                }

                if (amount + heldChange < 0 || heldChange > 0)
                {
                    throw ErrorCatalog.InvalidCredit.ToException("credits");
                }

                // A credit (or a release) always satisfies the condition on an existing row, so only a missing row stops it.
                if (round > 0)
                {
                    throw new InvalidOperationException($"A credit matched no wallet row even after creating one for user {userId}.");
                }

                await statements.CreateWalletAsync(
                    db.Database.GetDbConnection(), db.Database.CurrentTransaction?.GetDbTransaction(), userId, time.GetUtcNow(), cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Takes back up to <paramref name="credits"/> from the user, inside the caller's transaction: what the balance
    /// covers is debited as a <c>reversal</c>, and the rest, credits already spent, is booked to the
    /// <see cref="SystemAccounts.Shortfall"/> account, so every credit taken back is accounted for on one side or the
    /// other and no wallet goes negative. The caller holds a lock on what the key belongs to (a payment's row).
    /// </summary>
    public async Task<Reclaimed> ReverseAsync(
        Guid userId, long credits, string idempotencyKey, string reference, string memo, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(credits);
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A reversal runs inside the caller's transaction, with the change that calls for it.");
        }

        // Another posting may spend between the read and the update; the conditional update then matches nothing and we read again.
        while (true)
        {
            // Held credits are not taken: the generations holding them settle from them.
            var available = await db.Wallets.Where(wallet => wallet.UserId == userId).Select(wallet => wallet.Balance - wallet.Held).SingleOrDefaultAsync(cancellationToken);
            var taken = Math.Min(available, credits);
            if (taken == 0 || await ApplyAsync(userId, -taken, 0, LedgerEntryKind.Reversal, idempotencyKey, reference, @operator: null, memo, cancellationToken) is not null)
            {
                var shortfall = credits - taken;
                if (shortfall > 0)
                {
                    var booked = await ApplyAsync(
                        SystemAccounts.Shortfall, shortfall, 0, LedgerEntryKind.Reversal, $"{idempotencyKey}:{userId:N}", reference, @operator: null,
                        $"Credits already spent by {userId} when {reference} was taken back.", cancellationToken);
                    if (booked is null)
                    {
                        throw new InvalidOperationException("The shortfall account's wallet is missing; the migrations create it.");
                    }
                }

                return new Reclaimed(taken, shortfall);
            }
        }
    }

    /// <summary>The conditional update and the entry it explains; null when no row matched (no wallet, or a debit or hold beyond the available credits).</summary>
    private async Task<LedgerEntry?> ApplyAsync(
        Guid userId, long amount, long heldChange, LedgerEntryKind kind, string idempotencyKey, string? reference, string? @operator, string? memo,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var kindName = LedgerEntry.KindName(kind);
        var stored = await statements.TryPostAsync(
            db.Database.GetDbConnection(), db.Database.CurrentTransaction?.GetDbTransaction(), userId, amount, heldChange, kindName,
            idempotencyKey, reference, @operator, memo, now, cancellationToken);
        if (stored is not { } posting)
        {
            return null;
        }

        // Counted at the statement, the one place every posting passes: a caller's transaction rolled back afterwards
        // (rare: callers commit right after) still counts.
        if (amount != 0)
        {
            RootMetrics.CreditsMoved(kindName, amount);
        }

        return LedgerEntry.Stored(posting.EntryId, userId, amount, heldChange, posting.BalanceAfter, kind, idempotencyKey, reference, @operator, memo, now);
    }

    private async Task<LedgerPosting?> FindReplayAsync(
        Guid userId, string idempotencyKey, long amount, long heldChange, LedgerEntryKind kind, string? reference, CancellationToken cancellationToken)
    {
        var entry = await db.LedgerEntries.AsNoTracking()
            .SingleOrDefaultAsync(candidate => candidate.UserId == userId && candidate.IdempotencyKey == idempotencyKey, cancellationToken);
        if (entry is null)
        {
            return null;
        }

        return entry.Amount == amount && entry.HeldChange == heldChange && entry.Kind == kind && entry.Reference == reference
            ? new LedgerPosting(entry, IsReplay: true)
            : throw ErrorCatalog.IdempotencyKeyReused.ToException();
    }
}
