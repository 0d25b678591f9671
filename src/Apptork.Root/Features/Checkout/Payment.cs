using Apptork.Root.Features.Wallet;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Checkout;

/// <summary>Where a payment stands; stored and sent in snake_case.</summary>
public enum PaymentStatus
{
    /// <summary>Created; the user has not paid (yet).</summary>
    Pending,
    Paid,
    /// <summary>The last attempt was declined; the user may still pay with another card while the session lives.</summary>
    Failed,
    Expired,
    /// <summary>Part of the money went back (a refund or a lost dispute) and the matching credits were taken back.</summary>
    PartiallyRefunded,
    Refunded,
}

public enum PaymentFlow
{
    /// <summary>A hosted payment page (Stripe Checkout): the client opens <c>checkout_url</c>.</summary>
    Checkout,
    /// <summary>A native payment sheet (Stripe PaymentIntent): the client confirms with <c>client_secret</c>.</summary>
    PaymentSheet,
    /// <summary>Bought in the App Store or Google Play by the app, and sent to us to verify and credit.</summary>
    InAppPurchase,
}

/// <summary>
/// One purchase of a credit pack, from creation to its last refund. What the payment provider told us is kept as facts
/// that only grow (paid, money refunded, money lost in disputes), so that duplicate and out-of-order notifications
/// converge on the same state; what the ledger has been given for it (<see cref="CreditedAt"/>,
/// <see cref="CreditsReversed"/>) is updated in the same transaction as the ledger entries.
/// </summary>
public sealed class Payment
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public required string PackId { get; set; }

    /// <summary>The pack's credits and price when the payment was created: later pack edits do not change a purchase.</summary>
    public long Credits { get; set; }

    public long Amount { get; set; }

    public required string Currency { get; set; }

    public PaymentProvider Provider { get; set; }

    public PaymentFlow Flow { get; set; }

    public PaymentStatus Status { get; set; }

    /// <summary>The provider's checkout session (<c>cs_…</c>), when the flow has one.</summary>
    public string? ProviderSessionId { get; set; }

    /// <summary>
    /// The provider's payment (<c>pi_…</c>): refunds and disputes name it. For a store purchase, the store's transaction:
    /// the App Store's <c>transactionId</c>, Google Play's <c>orderId</c>; unique, so each is credited once.
    /// </summary>
    public string? ProviderPaymentId { get; set; }

    /// <summary>Hashed <c>X-Device-Id</c> of the purchase, so failed payments lock checkout on the device too.</summary>
    public string? DeviceIdHash { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>Money returned so far, in minor units (cumulative, as the provider reports it).</summary>
    public long AmountRefunded { get; set; }

    /// <summary>Money taken back by lost disputes, in minor units.</summary>
    public long AmountDisputedLost { get; set; }

    /// <summary>When the purchase's credits were posted to the wallet.</summary>
    public DateTimeOffset? CreditedAt { get; set; }

    /// <summary>Credits taken back so far for refunds and lost disputes, from the wallet or booked as shortfall.</summary>
    public long CreditsReversed { get; set; }

    /// <summary>Of <see cref="CreditsReversed"/>, those the user had already spent (booked to <see cref="SystemAccounts.Shortfall"/>).</summary>
    public long ShortfallCredits { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>A new purchase of <paramref name="pack"/>, with its own copy of the pack's credits and price.</summary>
    public static Payment Pending(CreditPack pack, Guid userId, PaymentProvider provider, PaymentFlow flow, string? deviceIdHash, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        UserId = userId,
        PackId = pack.Id,
        Credits = pack.Credits,
        Amount = pack.Price,
        Currency = pack.Currency,
        Provider = provider,
        Flow = flow,
        Status = PaymentStatus.Pending,
        DeviceIdHash = deviceIdHash,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>The ledger reference of every entry this payment causes.</summary>
    public string LedgerReference => $"payment:{Id:N}";

    /// <summary>Money gone back to the payer, refunds and disputes together, never more than was paid.</summary>
    public long AmountReturned => Math.Min(Amount, AmountRefunded + AmountDisputedLost);

    /// <summary>
    /// The credits that returned money stands for, rounded up: a partial refund takes back at least what it paid for,
    /// and a full one exactly the pack.
    /// </summary>
    public long CreditsToReverse => AmountReturned == 0 ? 0 : ((Credits * AmountReturned) + Amount - 1) / Amount;
}

public sealed class PaymentConfiguration : IEntityTypeConfiguration<Payment>
{
    public void Configure(EntityTypeBuilder<Payment> builder)
    {
        builder.ToTable("payments", table =>
        {
            table.HasCheckConstraint("ck_payments_credits_reversed", "credits_reversed >= 0 AND credits_reversed <= credits");
            table.HasCheckConstraint("ck_payments_shortfall", "shortfall_credits >= 0 AND shortfall_credits <= credits_reversed");
        });
        builder.HasKey(payment => payment.Id);
        builder.Property(payment => payment.PackId).HasMaxLength(CreditPack.MaxIdLength);
        builder.Property(payment => payment.Currency).HasMaxLength(3);
        builder.Property(payment => payment.Provider).HasConversion<string>().HasMaxLength(20);
        builder.Property(payment => payment.Flow).HasConversion<string>().HasMaxLength(20);
        builder.Property(payment => payment.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(payment => payment.ProviderSessionId).HasMaxLength(255);
        builder.Property(payment => payment.ProviderPaymentId).HasMaxLength(255);
        builder.Property(payment => payment.DeviceIdHash).HasMaxLength(64);
        builder.HasIndex(payment => payment.ProviderSessionId).IsUnique();
        builder.HasIndex(payment => payment.ProviderPaymentId).IsUnique();
        builder.HasIndex(payment => new { payment.UserId, payment.CreatedAt });
        builder.HasOne<Auth.Users.User>().WithMany().HasForeignKey(payment => payment.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}

/// <summary>
/// A provider notification already processed, by its id (Stripe's <c>evt_…</c>): written in the same transaction as its
/// effect, so a redelivery is recognized by the primary key and answered without doing anything twice.
/// </summary>
public sealed class ProcessedPaymentEvent
{
    public required string Id { get; set; }

    public required string Type { get; set; }

    public Guid PaymentId { get; set; }

    public DateTimeOffset ProcessedAt { get; set; }
}

public sealed class ProcessedPaymentEventConfiguration : IEntityTypeConfiguration<ProcessedPaymentEvent>
{
    public void Configure(EntityTypeBuilder<ProcessedPaymentEvent> builder)
    {
        builder.ToTable("processed_payment_events");
        builder.HasKey(processed => processed.Id);
        builder.Property(processed => processed.Id).HasMaxLength(255);
        builder.Property(processed => processed.Type).HasMaxLength(100);
        builder.HasIndex(processed => processed.PaymentId);
    }
}
