using System.Data.Common;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Wallets;

/// <summary>A user's wallet as the adjust form shows it.</summary>
/// <param name="Held">Set aside for the user's generations under way; a debit cannot take these.</param>
public sealed record WalletView(Guid UserId, string? Email, long Balance, long Held);

/// <summary>What an adjustment came to: applied (or already applied by the same form), or refused with a text key.</summary>
public sealed record AdjustmentResult(string? Error, bool CreditRefused = false)
{
    public static AdjustmentResult Applied { get; } = new(Error: null);
}

/// <summary>
/// Finance's manual corrections of a wallet: an <c>adjustment</c> entry through <see cref="Ledger"/>, the one path that
/// changes a balance, with the operator and the reason, and its audit row committed in the same transaction.
/// </summary>
public sealed class WalletAdjustments(RootDbContext database, Ledger ledger, AdminAudit audit, ILookupNormalizer normalizer)
{
    /// <summary>The largest amount one adjustment moves either way: a typo of a few digits is refused, not booked.</summary>
    public const long MaxAmount = 1_000_000;

    /// <summary>The user by id or email (case-insensitive), with the balance; null when no such user.</summary>
    public async Task<WalletView?> FindAsync(string? userIdOrEmail, CancellationToken cancellationToken)
    {
        var query = userIdOrEmail?.Trim();
        if (string.IsNullOrEmpty(query))
        {
            return null;
        }

        var users = database.Users.AsNoTracking();
        // The sign-in's own normalization, so any spelling of the mailbox finds its account.
        var normalized = normalizer.NormalizeEmail(query);
        var user = Guid.TryParse(query, out var id)
            ? await users.Where(candidate => candidate.Id == id).Select(candidate => new { candidate.Id, candidate.Email }).SingleOrDefaultAsync(cancellationToken)
            : await users.Where(candidate => candidate.NormalizedEmail == normalized)
                .Select(candidate => new { candidate.Id, candidate.Email }).SingleOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            return null;
        }

        var wallet = await database.Wallets.Where(wallet => wallet.UserId == user.Id).Select(wallet => new { wallet.Balance, wallet.Held }).SingleOrDefaultAsync(cancellationToken);
        return new WalletView(user.Id, user.Email, wallet?.Balance ?? 0, wallet?.Held ?? 0);
    }

    /// <summary>
    /// Posts <paramref name="amount"/> to the user's wallet when the balance is still <paramref name="expectedBalance"/>
    /// (the one the form showed). The form's <paramref name="nonce"/> is the idempotency key: the same form submitted
    /// twice posts once, and the second submit is answered as applied.
    /// </summary>
    public async Task<AdjustmentResult> AdjustAsync(
        Guid userId, long amount, string? reason, long expectedBalance, Guid nonce, AuditActor actor, CancellationToken cancellationToken)
    {
        if (AdminAudit.ReasonError(reason, LedgerEntry.MaxMemoLength) is { } reasonError)
        {
            return new AdjustmentResult(reasonError);
        }

        if (amount == 0 || Math.Abs(amount) > MaxAmount)
        {
            return new AdjustmentResult("ErrorAmountInvalid");
        }

        if (nonce == Guid.Empty)
        {
            return new AdjustmentResult("ErrorBalanceChanged");
        }

        var user = await database.Users.AsNoTracking().Where(candidate => candidate.Id == userId)
            .Select(candidate => new { candidate.Id, candidate.Email }).SingleOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            return new AdjustmentResult("ErrorUserNotFound");
        }

        var key = IdempotencyKey(nonce);
        if (await EarlierAsync(userId, key, amount, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        var memo = reason!.Trim();
        await using var transaction = await database.Database.BeginTransactionAsync(cancellationToken);
        LedgerPosting posting;
        try
        {
            posting = await ledger.PostAsync(userId, amount, LedgerEntryKind.Adjustment, key, reference: null, actor.Email, memo, cancellationToken);
        }
        catch (ApiException exception) when (exception.Errors.Any(error => error.Definition == ErrorCatalog.InvalidCredit))
        {
            await transaction.RollbackAsync(cancellationToken);
            return new AdjustmentResult(Error: null, CreditRefused: true);
        }
        catch (DbException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            // The same form submitted twice at once: the other submit's entry holds the key (this statement failed,
            // which on PostgreSQL aborted the transaction, hence the rollback).
            await transaction.RollbackAsync(cancellationToken);
            return await EarlierAsync(userId, key, amount, cancellationToken) ?? new AdjustmentResult("ErrorBalanceChanged");
        }

        // The balance before, read under the posting's own lock: the form's balance is checked against what this
        // posting changed, not against a read another posting could follow before the update.
        var before = posting.Entry.BalanceAfter - amount;
        if (before != expectedBalance)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new AdjustmentResult("ErrorBalanceChanged");
        }

        audit.Record(
            actor, AdminActions.WalletAdjusted, $"user:{userId} {user.Email}", new { Balance = before }, new { Balance = posting.Entry.BalanceAfter, Amount = amount }, memo);
        await database.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return AdjustmentResult.Applied;
    }

    public static string IdempotencyKey(Guid nonce) => $"admin-adjust:{nonce:N}";

    /// <summary>
    /// The answer to a form already applied: applied again when it posted this amount, refused as stale when the same
    /// form came back with another amount (its nonce is spent); null when the form posted nothing yet.
    /// </summary>
    private async Task<AdjustmentResult?> EarlierAsync(Guid userId, string key, long amount, CancellationToken cancellationToken)
    {
        var posted = await database.LedgerEntries.AsNoTracking()
            .Where(entry => entry.UserId == userId && entry.IdempotencyKey == key).Select(entry => (long?)entry.Amount).SingleOrDefaultAsync(cancellationToken);
        return posted is null ? null : posted == amount ? AdjustmentResult.Applied : new AdjustmentResult("ErrorBalanceChanged");
    }
}
