using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Stripe;

namespace Apptork.Root.Admin.Purchases;

/// <summary>What a refund came to: applied (or already applied by the same form), or refused with a text key and its values.</summary>
public sealed record RefundResult(string? Error, params object[] Values)
{
    public static RefundResult Applied { get; } = new(Error: null);
}

/// <summary>
/// Finance's refunds of a purchase: the money goes back through the payment's provider (a Stripe refund, or nothing to
/// call for the development provider), then the credits come back through <see cref="PaymentSettlement"/>, the path of
/// Stripe's own refund notifications, with its shortfall rule and its ledger keys. The audit row commits with the
/// settlement.
/// </summary>
/// <remarks>
/// A refund is known to the settlement as a notification of its own, keyed by the form's nonce, so the same form
/// submitted again refunds nothing more. Its credits are posted under the key the settlement derives from the
/// cumulative amount refunded (<c>payment:…:reversal:{credits}</c>): when Stripe's <c>charge.refunded</c> for the same
/// refund arrives, it reports that same cumulative amount and the settlement finds nothing left to post.
/// </remarks>
public sealed class PurchaseRefunds(RootDbContext database, PaymentSettlement settlement, StripeGateway stripe, AdminAudit audit, TimeProvider time)
{
    public const string EventType = "admin.refund";

    /// <summary>The form's version of a purchase: any settlement changes it, so a form shown before one is refused.</summary>
    public static long Version(Payment payment) => payment.UpdatedAt.UtcTicks;

    /// <summary>Money that can still go back: what was paid less what refunds and disputes returned.</summary>
    public static long Refundable(Payment payment) =>
        payment.CreditedAt is null || IsRefundedByStore(payment) ? 0 : Math.Max(0, payment.Amount - payment.AmountReturned);

    /// <summary>An in-app purchase: only the store refunds it (the user asks Apple or Google), and its notification takes the credits back.</summary>
    public static bool IsRefundedByStore(Payment payment) => payment.Provider is PaymentProvider.AppStore or PaymentProvider.GooglePlay;

    public static string EventId(Guid nonce) => $"admin-refund:{nonce:N}";

    /// <summary>The refund's idempotency key at the provider: one refund per form, however often it is sent.</summary>
    public static string ProviderIdempotencyKey(Guid nonce) => $"apptork-refund-{nonce:N}";

    /// <summary>
    /// Refunds <paramref name="amount"/> (minor units) of the purchase when it is still the version the form showed
    /// (<paramref name="expectedVersion"/>).
    /// </summary>
    public async Task<RefundResult> RefundAsync(
        Guid paymentId, long amount, string? reason, long expectedVersion, Guid nonce, AuditActor actor, CancellationToken cancellationToken)
    {
        if (AdminAudit.ReasonError(reason, AdminAuditEntry.MaxReasonLength) is { } reasonError)
        {
            return new RefundResult(reasonError);
        }

        if (nonce == Guid.Empty)
        {
            return new RefundResult("ErrorPurchaseChanged");
        }

        // The same form again: its refund is done, whatever the purchase looks like now.
        if (await database.ProcessedPaymentEvents.AnyAsync(processed => processed.Id == EventId(nonce) && processed.PaymentId == paymentId, cancellationToken))
        {
            return RefundResult.Applied;
        }

        var before = await database.Payments.AsNoTracking().SingleOrDefaultAsync(payment => payment.Id == paymentId, cancellationToken);
        if (before is null)
        {
            return new RefundResult("ErrorPurchaseNotFound");
        }

        if (Version(before) != expectedVersion)
        {
            return new RefundResult("ErrorPurchaseChanged");
        }

        if (IsRefundedByStore(before))
        {
            return new RefundResult("ErrorPurchaseRefundedByStore");
        }

        var refundable = Refundable(before);
        if (refundable == 0 || (before.Provider == PaymentProvider.Stripe && before.ProviderPaymentId is null))
        {
            return new RefundResult("ErrorPurchaseNotRefundable");
        }

        if (amount < 1 || amount > refundable)
        {
            return new RefundResult("ErrorRefundAmount", refundable, before.Currency.ToUpperInvariant());
        }

        if (await ClaimAsync(before, cancellationToken) is not { } claimed)
        {
            return new RefundResult("ErrorPurchaseChanged");
        }

        string refundId;
        try
        {
            refundId = before.Provider == PaymentProvider.Stripe
                ? await stripe.RefundAsync(before.ProviderPaymentId!, amount, before.Id, ProviderIdempotencyKey(nonce), cancellationToken)
                : $"dev_re_{nonce:N}";
        }
        catch (Exception exception) when (exception is StripeException or HttpRequestException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Stripe refused, or its answer was lost. The version goes back to the form's, so the same form may be sent
            // again: Stripe answers its key with the refund it made, if it made one, never with a second.
            var shownAt = before.UpdatedAt;
            await database.Payments.Where(payment => payment.Id == before.Id && payment.UpdatedAt == claimed)
                .ExecuteUpdateAsync(set => set.SetProperty(payment => payment.UpdatedAt, shownAt), CancellationToken.None);
            return new RefundResult("ErrorRefundProvider", exception.Message);
        }

        var memo = reason!.Trim();
        var facts = new PaymentFacts(Paid: true, AmountRefunded: before.AmountRefunded + amount);
        await settlement.ApplyAsync(before.Id, facts, EventId(nonce), EventType, cancellationToken, settled => audit.Record(
            actor, AdminActions.PurchaseRefunded, $"payment:{before.Id} user:{before.UserId}", State(before),
            new { Refund = refundId, Amount = amount, State = State(settled) }, memo));
        return RefundResult.Applied;
    }

    /// <summary>
    /// Moves the purchase's version on, only from the version the form showed: of two refunds sent at once (two operators,
    /// or one form sent twice), one claims it and the other is refused as stale before any money moves.
    /// </summary>
    /// <returns>The purchase's new version time; null when another change came first.</returns>
    private async Task<DateTimeOffset?> ClaimAsync(Payment shown, CancellationToken cancellationToken)
    {
        // Later than the version shown even on a clock that stood still, and past SQLite's 100 µs time resolution.
        var claimed = time.GetUtcNow() is var now && now > shown.UpdatedAt.AddMilliseconds(1) ? now : shown.UpdatedAt.AddMilliseconds(1);
        // Stored at the databases' resolution, so that the release after a provider failure finds the very value.
        claimed = new DateTimeOffset(claimed.UtcTicks - (claimed.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        var shownAt = shown.UpdatedAt;
        var updated = await database.Payments.Where(payment => payment.Id == shown.Id && payment.UpdatedAt == shownAt)
            .ExecuteUpdateAsync(set => set.SetProperty(payment => payment.UpdatedAt, claimed), cancellationToken);
        return updated == 1 ? claimed : null;
    }

    private static object State(Payment payment) => new
    {
        Status = payment.Status.ToString(),
        payment.AmountRefunded,
        payment.CreditsReversed,
        payment.ShortfallCredits,
    };
}
