using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Purchases;

/// <summary>A store purchase whose signature or store answer has been checked: only such a purchase reaches <see cref="StorePurchases"/>.</summary>
/// <param name="AccountUserId">The user the app tied the purchase to (Apple's <c>appAccountToken</c>, Google's <c>obfuscatedExternalAccountId</c>), when it did.</param>
/// <param name="ConsumedElsewhere">Google Play says it is consumed: only a purchase already credited here is answered, never a new one.</param>
/// <param name="Quantity">How many of the product one transaction bought (both stores let a user buy several at once).</param>
public sealed record VerifiedStorePurchase(
    PaymentProvider Store, string TransactionId, string ProductId, Guid? AccountUserId, bool Revoked, int Quantity, bool ConsumedElsewhere = false)
{
    /// <summary>More than either store sells in one transaction.</summary>
    public const int MaxQuantity = 100;
}

/// <summary>
/// A store's word that a purchase was refunded or revoked, kept even when the purchase has not been sent to us (yet):
/// the app may send it after the refund, and it must not be credited then.
/// </summary>
public sealed class StoreRevocation
{
    public PaymentProvider Store { get; set; }

    public required string TransactionId { get; set; }

    public DateTimeOffset RevokedAt { get; set; }
}

public sealed class StoreRevocationConfiguration : IEntityTypeConfiguration<StoreRevocation>
{
    public void Configure(EntityTypeBuilder<StoreRevocation> builder)
    {
        builder.ToTable("store_revocations");
        builder.HasKey(revocation => new { revocation.Store, revocation.TransactionId });
        builder.Property(revocation => revocation.Store).HasConversion<string>().HasMaxLength(20);
        builder.Property(revocation => revocation.TransactionId).HasMaxLength(255);
    }
}

/// <summary>
/// Store purchases as payments: each verified purchase becomes one <see cref="Payment"/> (unique by the store's
/// transaction id) settled by <see cref="PaymentSettlement"/>, so the pack is credited once, a refund takes the credits
/// back with the same shortfall rule as a card refund, and both show in the wallet and the admin beside card payments.
/// </summary>
/// <remarks>
/// A purchase and its refund may arrive in either order and at once: the purchase's row is committed before revocations
/// are read, and a revocation is committed before the purchase's row is looked for, so at least one side sees the other.
/// Both seeing it is harmless, since a refund's facts only grow.
/// </remarks>
public sealed class StorePurchases(RootDbContext db, PaymentSettlement settlement, TimeProvider time)
{
    /// <summary>Credits the purchase to <paramref name="userId"/> once; the payment as it stands, and whether this call created it.</summary>
    public async Task<(Payment Payment, bool Created)> CreditAsync(Guid userId, VerifiedStorePurchase purchase, string? deviceIdHash, CancellationToken cancellationToken)
    {
        if (purchase.AccountUserId is { } owner && owner != userId)
        {
            throw ErrorCatalog.PurchaseOfAnotherUser.ToException();
        }

        var payment = await FindAsync(purchase.Store, purchase.TransactionId, cancellationToken);
        var created = false;
        if (payment is null)
        {
            if (purchase.Revoked || await IsRevokedAsync(purchase, cancellationToken))
            {
                throw ErrorCatalog.StorePurchaseRevoked.ToException();
            }

            if (purchase.ConsumedElsewhere)
            {
                throw ErrorCatalog.PurchaseAlreadyConsumed.ToException();
            }

            (payment, created) = await CreateAsync(userId, purchase, deviceIdHash, cancellationToken);
        }

        if (payment.UserId != userId)
        {
            throw ErrorCatalog.PurchaseOfAnotherUser.ToException();
        }

        var revoked = purchase.Revoked || await IsRevokedAsync(purchase, cancellationToken);
        var eventId = revoked ? RevocationEventId(purchase.Store, purchase.TransactionId) : $"{purchase.Store}:{purchase.TransactionId}:purchased";
        await settlement.ApplyAsync(payment.Id, Facts(payment, revoked), eventId, revoked ? "store.revoked" : "store.purchased", cancellationToken);
        payment = await db.Payments.AsNoTracking().SingleAsync(candidate => candidate.Id == payment.Id, cancellationToken);
        return revoked ? throw ErrorCatalog.StorePurchaseRevoked.ToException() : (payment, created);
    }

    /// <summary>
    /// Takes back a refunded or revoked purchase, whether or not it was sent to us yet: once per purchase, however many
    /// notifications, redeliveries and sweeps report it (the second is a <see cref="SettlementOutcome.Duplicate"/>).
    /// </summary>
    public async Task<SettlementOutcome> RevokeAsync(PaymentProvider store, string transactionId, string eventType, CancellationToken cancellationToken)
    {
        db.StoreRevocations.Add(new StoreRevocation { Store = store, TransactionId = transactionId, RevokedAt = time.GetUtcNow() });
        var newRevocation = true;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            // Revoked before: the payment, if any, is brought in line again below, which changes nothing twice.
            newRevocation = false;
        }

        db.ChangeTracker.Clear();
        if (await FindAsync(store, transactionId, cancellationToken) is { } payment)
        {
            return await settlement.ApplyAsync(payment.Id, Facts(payment, revoked: true), RevocationEventId(store, transactionId), eventType, cancellationToken);
        }

        return newRevocation ? SettlementOutcome.Processed : SettlementOutcome.Duplicate;
    }

    private static string RevocationEventId(PaymentProvider store, string transactionId) => $"{store}:{transactionId}:revoked";

    private static PaymentFacts Facts(Payment payment, bool revoked) => new(Paid: true, AmountRefunded: revoked ? payment.Amount : 0);

    private async Task<(Payment Payment, bool Created)> CreateAsync(Guid userId, VerifiedStorePurchase purchase, string? deviceIdHash, CancellationToken cancellationToken)
    {
        // A pack no longer on sale is still credited: the store has taken the money.
        var pack = await db.CreditPacks.AsNoTracking()
            .SingleOrDefaultAsync(
                candidate => purchase.Store == PaymentProvider.AppStore ? candidate.AppStoreProductId == purchase.ProductId : candidate.GooglePlayProductId == purchase.ProductId,
                cancellationToken)
            ?? throw ErrorCatalog.UnknownStoreProduct.ToException(args: new Dictionary<string, object?> { ["product_id"] = purchase.ProductId });
        // At the pack's list price: each store sets its own local prices and does not tell them to the server.
        var payment = Payment.Pending(pack, userId, purchase.Store, PaymentFlow.InAppPurchase, deviceIdHash, time.GetUtcNow());
        payment.ProviderPaymentId = purchase.TransactionId;
        payment.Credits *= purchase.Quantity;
        payment.Amount *= purchase.Quantity;
        db.Payments.Add(payment);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return (payment, true);
        }
        catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            // The same purchase sent at once by another request, which stored it first.
            db.ChangeTracker.Clear();
            return (await FindAsync(purchase.Store, purchase.TransactionId, cancellationToken) ?? throw new InvalidOperationException("A store purchase lost its row."), false);
        }
    }

    private Task<Payment?> FindAsync(PaymentProvider store, string transactionId, CancellationToken cancellationToken) =>
        db.Payments.AsNoTracking().SingleOrDefaultAsync(payment => payment.Provider == store && payment.ProviderPaymentId == transactionId, cancellationToken);

    private Task<bool> IsRevokedAsync(VerifiedStorePurchase purchase, CancellationToken cancellationToken) =>
        db.StoreRevocations.AnyAsync(revocation => revocation.Store == purchase.Store && revocation.TransactionId == purchase.TransactionId, cancellationToken);
}
