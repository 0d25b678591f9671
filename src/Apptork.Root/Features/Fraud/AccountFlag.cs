using Apptork.Root.Features.Auth.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Fraud;

/// <summary>
/// A mark on an account for operators to look at (the control plane lists them with the account's fraud signals):
/// something the system could not settle by itself, such as credits spent from a payment that was then refunded.
/// </summary>
public sealed class AccountFlag
{
    /// <summary>Credits were taken back after a refund or a lost dispute, but the user had already spent some.</summary>
    public const string PaymentShortfall = "payment_shortfall";

    public long Id { get; set; }

    public Guid UserId { get; set; }

    public required string Reason { get; set; }

    /// <summary>What the flag is about, e.g. the payment's ledger reference; one flag per reason and reference.</summary>
    public required string Reference { get; set; }

    public string? Detail { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class AccountFlagConfiguration : IEntityTypeConfiguration<AccountFlag>
{
    public void Configure(EntityTypeBuilder<AccountFlag> builder)
    {
        builder.ToTable("account_flags");
        builder.HasKey(flag => flag.Id);
        builder.Property(flag => flag.Reason).HasMaxLength(50);
        builder.Property(flag => flag.Reference).HasMaxLength(255);
        builder.Property(flag => flag.Detail).HasMaxLength(1000);
        builder.HasIndex(flag => new { flag.UserId, flag.Reason, flag.Reference }).IsUnique();
        builder.HasOne<User>().WithMany().HasForeignKey(flag => flag.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}
