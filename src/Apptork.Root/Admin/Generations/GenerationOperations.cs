using System.Data.Common;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Generations;

/// <summary>One generation as the screens show it, with whether its charge was refunded (by the job or by staff).</summary>
public sealed record GenerationDetails(Generation Generation, string? UserEmail, bool Refunded)
{
    /// <summary>The form's version of the generation: a form shown before any change to it is refused.</summary>
    public long Version => Generation.UpdatedAt.UtcTicks;
}

/// <summary>What a retry or refund came to: done, or refused with a text key and nothing changed.</summary>
public sealed record GenerationActionResult(string? Error)
{
    public static GenerationActionResult Done { get; } = new(Error: null);
}

/// <summary>
/// Support's and finance's remedies for generations: a retry of a failed one, a refund of one's charge. Each checks the
/// generation is still as the form showed it (status and <see cref="Generation.UpdatedAt"/>) with a conditional update,
/// which also holds the generation's row until commit, and writes its audit row in the same transaction.
/// </summary>
/// <remarks>
/// The retry rule: a failed generation was already refunded by its job, or its hold released (failed and refunded in
/// one transaction), and a
/// staff retry is our remedy for our failure, so it is not charged again: the user paid once and asked once, and
/// charging again would spend credits the user did not agree to spend (or fail for a balance since spent). Its refund
/// stands; the retried run gets every attempt again; if it fails again, the job finds the refund already booked and
/// books none (<see cref="GenerationJob"/>). The refund rule: one refund per generation, under its
/// <see cref="Generation.RefundKey"/>, the key the job's own refund uses, so the ledger's unique key makes a second refund
/// impossible whoever books it; a generation still queued or running is not refunded (its job may yet fail and refund).
/// </remarks>
public sealed class GenerationOperations(RootDbContext database, Ledger ledger, JobEnqueuer jobs, AdminAudit audit, TimeProvider time)
{
    public const int PageSize = 50;

    public async Task<CursorPage<GenerationDetails>> ListAsync(GenerationStatus? status, string? cursor, CancellationToken cancellationToken)
    {
        var after = cursor is null ? null : Cursor.Decode(cursor) as CreatedKey;
        var generations = database.Generations.AsNoTracking().Where(generation => status == null || generation.Status == status);
        var page = await generations.ToCursorPageAsync(
            new PageRequest(PageSize, after), generation => generation.CreatedAt, generation => generation.Id, generation => generation, cancellationToken);
        var users = page.Results.Select(generation => generation.UserId).Distinct().ToList();
        var emails = await database.Users.AsNoTracking().Where(user => users.Contains(user.Id))
            .Select(user => new { user.Id, user.Email }).ToDictionaryAsync(user => user.Id, user => user.Email, cancellationToken);
        var keys = page.Results.Select(generation => generation.RefundKey).ToList();
        var refunded = (await database.LedgerEntries.AsNoTracking().Where(entry => users.Contains(entry.UserId) && keys.Contains(entry.IdempotencyKey))
            .Select(entry => entry.IdempotencyKey).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        return new CursorPage<GenerationDetails>(
            page.Results.Select(generation => new GenerationDetails(generation, emails.GetValueOrDefault(generation.UserId), refunded.Contains(generation.RefundKey))).ToList(),
            page.NextCursor);
    }

    public async Task<GenerationDetails?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        var generation = await database.Generations.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        if (generation is null)
        {
            return null;
        }

        var email = await database.Users.AsNoTracking().Where(user => user.Id == generation.UserId).Select(user => user.Email).SingleOrDefaultAsync(cancellationToken);
        return new GenerationDetails(generation, email, await IsRefundedAsync(generation, cancellationToken));
    }

    /// <summary>Queues a failed generation again, when it is still the failure the form showed, and enqueues its job.</summary>
    public async Task<GenerationActionResult> RetryAsync(Guid id, long version, string? reason, AuditActor actor, CancellationToken cancellationToken)
    {
        if (RefusedReason(reason) is { } refused)
        {
            return refused;
        }

        var generation = await database.Generations.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        if (generation is null)
        {
            return new GenerationActionResult("ErrorGenerationNotFound");
        }

        if (generation.Status != GenerationStatus.Failed)
        {
            return new GenerationActionResult("ErrorGenerationNotFailed");
        }

        var shown = new DateTimeOffset(version, TimeSpan.Zero);
        var now = time.GetUtcNow();
        await using var transaction = await database.Database.BeginTransactionAsync(cancellationToken);
        // The same conditions the job's own claims use: only this failure, as shown, goes back to the queue.
        var queued = await database.Generations
            .Where(candidate => candidate.Id == id && candidate.Status == GenerationStatus.Failed && candidate.UpdatedAt == shown)
            .ExecuteUpdateAsync(set => set
                .SetProperty(candidate => candidate.Status, GenerationStatus.Queued)
                .SetProperty(candidate => candidate.Attempts, 0)
                // Usage pricing: the failure released the hold, and the retry runs free, holding nothing.
                .SetProperty(candidate => candidate.Hold, candidate => candidate.Hold == null ? null : 0L)
                .SetProperty(candidate => candidate.CompletedAt, (DateTimeOffset?)null)
                .SetProperty(candidate => candidate.UpdatedAt, now), cancellationToken);
        if (queued == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new GenerationActionResult("ErrorGenerationChanged");
        }

        audit.Record(
            actor, AdminActions.GenerationRetried, generation.Reference,
            new { status = "failed", attempts = generation.Attempts, error = generation.Error }, new { status = "queued", attempts = 0 }, reason!.Trim());
        await database.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        // After the commit, so the job finds it queued; were the enqueue lost, the recovery sweep enqueues it once stale.
        await jobs.EnqueueAsync(GenerationJob.For(id));
        return GenerationActionResult.Done;
    }

    /// <summary>Refunds the generation's charge once, through the ledger, when it is still as the form showed it.</summary>
    public async Task<GenerationActionResult> RefundAsync(Guid id, long version, string? reason, AuditActor actor, CancellationToken cancellationToken)
    {
        if (RefusedReason(reason) is { } refused)
        {
            return refused;
        }

        var generation = await database.Generations.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        if (generation is null)
        {
            return new GenerationActionResult("ErrorGenerationNotFound");
        }

        if (await IsRefundedAsync(generation, cancellationToken))
        {
            return new GenerationActionResult("ErrorGenerationAlreadyRefunded");
        }

        if (!generation.IsFinished || generation.Cost <= 0)
        {
            return new GenerationActionResult("ErrorGenerationNotRefundable");
        }

        var shown = new DateTimeOffset(version, TimeSpan.Zero);
        var memo = reason!.Trim();
        await using var transaction = await database.Database.BeginTransactionAsync(cancellationToken);
        // Takes the generation's row (and moves its version) before the posting, so a retry or a second refund waits for this one.
        var held = await database.Generations
            .Where(candidate => candidate.Id == id && candidate.Status == generation.Status && candidate.UpdatedAt == shown)
            .ExecuteUpdateAsync(set => set.SetProperty(candidate => candidate.UpdatedAt, time.GetUtcNow()), cancellationToken);
        if (held == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new GenerationActionResult(await IsRefundedAsync(generation, cancellationToken) ? "ErrorGenerationAlreadyRefunded" : "ErrorGenerationChanged");
        }

        try
        {
            await ledger.PostAsync(generation.UserId, generation.Cost, LedgerEntryKind.Refund, generation.RefundKey, generation.Reference, actor.Email, memo, cancellationToken);
        }
        catch (DbException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            // Refunded meanwhile (the key is the generation's, whoever booked it): the statement failed, which on
            // PostgreSQL aborted the transaction, hence the rollback.
            await transaction.RollbackAsync(cancellationToken);
            return new GenerationActionResult("ErrorGenerationAlreadyRefunded");
        }

        audit.Record(actor, AdminActions.GenerationRefunded, generation.Reference, new { refunded = false }, new { refunded = true, credits = generation.Cost }, memo);
        await database.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return GenerationActionResult.Done;
    }

    private Task<bool> IsRefundedAsync(Generation generation, CancellationToken cancellationToken) =>
        database.LedgerEntries.AsNoTracking().AnyAsync(entry => entry.UserId == generation.UserId && entry.IdempotencyKey == generation.RefundKey, cancellationToken);

    private static GenerationActionResult? RefusedReason(string? reason) =>
        AdminAudit.ReasonError(reason, LedgerEntry.MaxMemoLength) is { } error ? new GenerationActionResult(error) : null;
}
