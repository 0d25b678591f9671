using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Checkout;

/// <summary>
/// What one provider notification says about a payment. Every fact only ever grows (a payment once paid stays paid,
/// refunded amounts are cumulative), so applying notifications twice or out of order ends in the same state.
/// </summary>
public sealed record PaymentFacts(
    bool Paid = false, bool Failed = false, bool Expired = false, long AmountRefunded = 0, long AmountDisputedLost = 0, string? ProviderPaymentId = null);

public enum SettlementOutcome
{
    Processed,
    /// <summary>The notification had been processed before: nothing was done again.</summary>
    Duplicate,
}

/// <summary>
/// Brings a payment and its user's wallet in line with what the provider has said, once per notification: the
/// purchase is credited once it is paid, and refunds and lost disputes take back the credits they stand for (those
/// already spent go to the shortfall account and flag the user). Webhooks and the development provider both end here.
/// </summary>
/// <remarks>
/// One transaction per notification: the notification's id, the payment's new state and its ledger entries commit
/// together or not at all, so a crash anywhere leaves either the whole effect or none, and the provider's redelivery
/// finishes the job. The payment row is locked (an UPDATE) before it is read, so notifications of one payment are
/// applied one after another even across processes, and what was already posted is read from the row itself.
/// </remarks>
public sealed partial class PaymentSettlement(RootDbContext db, Ledger ledger, CheckoutLock checkoutLock, TimeProvider time, ILogger<PaymentSettlement> logger)
{
    /// <param name="settled">
    /// Called with the payment as settled, before the commit: what the caller adds to the unit of work then (an
    /// operator's audit row) commits with the settlement or not at all.
    /// </param>
    public async Task<SettlementOutcome> ApplyAsync(
        Guid paymentId, PaymentFacts facts, string eventId, string eventType, CancellationToken cancellationToken, Action<Payment>? settled = null)
    {
        bool failedNow;
        Guid userId;
        string? deviceIdHash;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var now = time.GetUtcNow();
            db.ProcessedPaymentEvents.Add(new ProcessedPaymentEvent { Id = eventId, Type = eventType, PaymentId = paymentId, ProcessedAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
            {
                // PostgreSQL made this insert wait for a concurrent delivery of the same event, which committed.
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                return SettlementOutcome.Duplicate;
            }

            await db.Payments.Where(payment => payment.Id == paymentId)
                .ExecuteUpdateAsync(set => set.SetProperty(payment => payment.UpdatedAt, now), cancellationToken);
            db.ChangeTracker.Clear();
            var payment = await db.Payments.SingleAsync(candidate => candidate.Id == paymentId, cancellationToken);
            failedNow = Merge(payment, facts, now);
            userId = payment.UserId;
            deviceIdHash = payment.DeviceIdHash;
            await PostAsync(payment, now, cancellationToken);
            settled?.Invoke(payment);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        if (failedNow)
        {
            await CountFailureAsync(userId, deviceIdHash, cancellationToken);
        }

        return SettlementOutcome.Processed;
    }

    /// <summary>Adds the facts to the payment; true when they report a failed attempt of a payment not paid.</summary>
    private static bool Merge(Payment payment, PaymentFacts facts, DateTimeOffset now)
    {
        if (facts.ProviderPaymentId is { } providerPaymentId)
        {
            payment.ProviderPaymentId ??= providerPaymentId;
        }

        if (facts.Paid)
        {
            payment.PaidAt ??= now;
        }

        payment.AmountRefunded = Math.Max(payment.AmountRefunded, facts.AmountRefunded);
        payment.AmountDisputedLost = Math.Max(payment.AmountDisputedLost, facts.AmountDisputedLost);
        var failedNow = facts.Failed && payment.PaidAt is null;
        payment.Status = payment.PaidAt is not null
            ? payment.AmountReturned >= payment.Amount ? PaymentStatus.Refunded
                : payment.AmountReturned > 0 ? PaymentStatus.PartiallyRefunded
                : PaymentStatus.Paid
            : facts.Expired ? PaymentStatus.Expired
            : failedNow && payment.Status != PaymentStatus.Expired ? PaymentStatus.Failed
            : payment.Status;
        return failedNow;
    }

    /// <summary>The ledger entries the payment's state calls for and has not had yet.</summary>
    private async Task PostAsync(Payment payment, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var reference = payment.LedgerReference;
        if (payment.PaidAt is not null && payment.CreditedAt is null)
        {
            await ledger.PostAsync(
                payment.UserId, payment.Credits, LedgerEntryKind.Purchase, $"{reference}:purchase", reference, @operator: null, memo: $"{payment.PackId} pack",
                cancellationToken);
            payment.CreditedAt = now;
        }

        var target = payment.CreditedAt is null ? 0 : payment.CreditsToReverse;
        if (target <= payment.CreditsReversed)
        {
            return;
        }

        var reclaimed = await ledger.ReverseAsync(
            payment.UserId, target - payment.CreditsReversed, $"{reference}:reversal:{target}", reference,
            payment.AmountDisputedLost > 0 ? "Payment lost in a dispute" : "Payment refunded", cancellationToken);
        payment.CreditsReversed = target;
        payment.ShortfallCredits += reclaimed.Shortfall;
        if (reclaimed.Shortfall > 0)
        {
            LogShortfall(logger, payment.Id, payment.UserId, reclaimed.Shortfall);
            await FlagAsync(payment, now, cancellationToken);
        }
    }

    private async Task FlagAsync(Payment payment, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var detail = $"{payment.ShortfallCredits} of {payment.Credits} credits had been spent when the payment was taken back.";
        var flag = await db.AccountFlags.SingleOrDefaultAsync(
            candidate => candidate.UserId == payment.UserId && candidate.Reason == AccountFlag.PaymentShortfall && candidate.Reference == payment.LedgerReference,
            cancellationToken);
        if (flag is null)
        {
            db.AccountFlags.Add(new AccountFlag
            {
                UserId = payment.UserId, Reason = AccountFlag.PaymentShortfall, Reference = payment.LedgerReference, Detail = detail, CreatedAt = now,
            });
        }
        else
        {
            flag.Detail = detail;
        }
    }

    /// <summary>
    /// Declines count towards the checkout lock. Counted after the commit: a store outage must not make the provider
    /// redeliver a notification whose effect is already recorded (the redelivery would be a duplicate and count nothing).
    /// </summary>
    private async Task CountFailureAsync(Guid userId, string? deviceIdHash, CancellationToken cancellationToken)
    {
        try
        {
            await checkoutLock.RecordFailedPaymentAsync(userId, deviceIdHash, cancellationToken);
        }
        catch (ApiException exception)
        {
            LogFailureNotCounted(logger, userId, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} was taken back after user {UserId} had spent {Shortfall} of its credits; booked as shortfall and the user flagged")]
    private static partial void LogShortfall(ILogger logger, Guid paymentId, Guid userId, long shortfall);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A failed payment of user {UserId} could not be counted towards the checkout lock ({Error})")]
    private static partial void LogFailureNotCounted(ILogger logger, Guid userId, string error);
}
