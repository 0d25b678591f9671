using Apptork.Root.Features.Auth.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Wallet;

/// <summary>
/// A user's credits. Only <see cref="Ledger"/> changes <see cref="Balance"/> and <see cref="Held"/>, always together
/// with the <see cref="LedgerEntry"/> that explains the change; the row is created by the first credit.
/// </summary>
public sealed class Wallet(Guid userId, long balance, DateTimeOffset updatedAt)
{
    public Guid UserId { get; private set; } = userId;

    public long Balance { get; private set; } = balance;

    /// <summary>
    /// The part of <see cref="Balance"/> set aside for generations under way (the most each can cost): still the user's,
    /// but no other debit may spend it. <see cref="Balance"/> − <see cref="Held"/> is what is available.
    /// </summary>
    public long Held { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; } = updatedAt;
}

public sealed class WalletConfiguration : IEntityTypeConfiguration<Wallet>
{
    public void Configure(EntityTypeBuilder<Wallet> builder)
    {
        builder.ToTable("wallets", table =>
        {
            // The second guard behind the Ledger's conditional update: no code path, present or future, can overdraw,
            // spend what is held, or release more than was held.
            table.HasCheckConstraint("ck_wallets_balance_not_negative", "balance >= 0");
            table.HasCheckConstraint("ck_wallets_held_within_balance", "held >= 0 AND held <= balance");
        });
        builder.HasKey(wallet => wallet.UserId);
        // Restrict: deleting an account anonymizes the user row, the wallet and its ledger stay for the books.
        builder.HasOne<User>().WithOne().HasForeignKey<Wallet>(wallet => wallet.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}
