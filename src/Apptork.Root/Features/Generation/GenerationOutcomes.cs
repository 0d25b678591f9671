using System.Linq.Expressions;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// How a generation ends, each time in one transaction with what it does to the wallet, and only while the generation is
/// still as its caller saw it (a condition on its row, which also holds the row until commit): so an end happens once,
/// with its ledger entries, whatever retries, duplicate jobs, sweeps or killed workers come between.
/// </summary>
public sealed class GenerationOutcomes(RootDbContext db, Ledger ledger, GenerationPricing pricing, TimeProvider time)
{
    /// <summary>
    /// Succeeded with its result; under usage pricing, charged what it used and the rest of its hold released. False when
    /// the generation was no longer as <paramref name="stillAsSeen"/> says (another run or the sweep ended it): nothing changed.
    /// </summary>
    public async Task<bool> SucceedAsync(Generation run, Expression<Func<Generation, bool>> stillAsSeen, string? text, TokenUsage? usage, Guid? fileId)
    {
        var charge = run.Hold is > 0 and var hold ? pricing.ChargeFor(run, hold, text, usage) : (long?)null;
        var now = time.GetUtcNow();
        await using var transaction = charge is null ? null : await db.Database.BeginTransactionAsync(CancellationToken.None);
        var written = await db.Generations.Where(generation => generation.Id == run.Id).Where(stillAsSeen)
            .ExecuteUpdateAsync(set => set
                .SetProperty(generation => generation.Status, GenerationStatus.Succeeded)
                .SetProperty(generation => generation.ResultText, text)
                .SetProperty(generation => generation.InputTokens, usage == null ? null : usage.InputTokens)
                .SetProperty(generation => generation.OutputTokens, usage == null ? null : usage.OutputTokens)
                .SetProperty(generation => generation.ResultFileId, fileId)
                .SetProperty(generation => generation.Cost, charge ?? run.Cost)
                .SetProperty(generation => generation.Error, (string?)null)
                .SetProperty(generation => generation.UpdatedAt, now)
                .SetProperty(generation => generation.CompletedAt, now), CancellationToken.None);
        if (written == 1 && charge is { } credits)
        {
            await ledger.SettleAsync(
                run.UserId, run.Hold!.Value, credits, LedgerEntryKind.Generation, run.ChargeKey, run.ReleaseKey, run.Reference, memo: null, CancellationToken.None);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(CancellationToken.None);
        }

        return written == 1;
    }

    /// <summary>
    /// Failed for good: its fixed charge refunded, or its whole hold released. False when the generation was no longer as
    /// <paramref name="stillAsSeen"/> says: nothing changed.
    /// </summary>
    public async Task<bool> FailAsync(Generation run, Expression<Func<Generation, bool>> stillAsSeen, string error)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var failed = await db.Generations.Where(generation => generation.Id == run.Id).Where(stillAsSeen)
            .ExecuteUpdateAsync(set => set
                .SetProperty(generation => generation.Status, GenerationStatus.Failed)
                .SetProperty(generation => generation.Error, Truncate(error))
                .SetProperty(generation => generation.UpdatedAt, now)
                .SetProperty(generation => generation.CompletedAt, now), CancellationToken.None);
        if (failed == 1 && run.Hold is > 0 and var hold)
        {
            await ledger.SettleAsync(
                run.UserId, hold, charge: 0, LedgerEntryKind.Generation, run.ChargeKey, run.ReleaseKey, run.Reference, "Generation failed", CancellationToken.None);
        }
        // A generation staff retried after its refund (a retry is not charged again) finds the refund booked: inside this
        // transaction a second posting under the key would fail the statement, so it is looked for under the row's lock.
        // (A usage-priced one staff retried holds 0: its first failure released the hold.)
        else if (failed == 1 && run.Hold is null
            && !await db.LedgerEntries.AnyAsync(entry => entry.UserId == run.UserId && entry.IdempotencyKey == run.RefundKey, CancellationToken.None))
        {
            await ledger.PostAsync(run.UserId, run.Cost, LedgerEntryKind.Refund, run.RefundKey, run.Reference, @operator: null, "Generation failed", CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
        return failed == 1;
    }

    public static string Truncate(string error) => error.Length <= Generation.MaxErrorLength ? error : error[..Generation.MaxErrorLength];
}
