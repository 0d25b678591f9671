using Apptork.Root.Features.Auth.Users;

namespace Apptork.Root.Features.Wallet;

/// <summary>
/// Wallets that belong to the business rather than to a person; each is a disabled user without an address, so nobody
/// can sign in as it, made by the migrations. The ledger's rules hold for them as for any wallet.
/// </summary>
public static class SystemAccounts
{
    /// <summary>
    /// Credits a user had already spent when the payment that bought them was refunded or lost in a dispute. Its balance
    /// is what such users still owe; each entry names the user and the payment. Booking them here keeps the books
    /// double-entry (every credit taken back is either debited from the user or recorded here) and no wallet negative.
    /// </summary>
    public static readonly Guid Shortfall = new("00000000-0000-0000-0000-00000000a001");

    public static IEnumerable<Guid> All => [Shortfall];

    /// <summary>The rows the migrations insert: the account's user and its empty wallet.</summary>
    internal static (User User, Wallet Wallet) ShortfallSeed()
    {
        var epoch = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var user = new User
        {
            Id = Shortfall,
            UserName = "system.shortfall",
            NormalizedUserName = "SYSTEM.SHORTFALL",
            DisplayName = "System: payment shortfall",
            // Fixed stamps: seed data must be the same in every model build, or each build would look like a model change.
            SecurityStamp = "system-shortfall",
            ConcurrencyStamp = "system-shortfall",
            CreatedAt = epoch,
            DisabledAt = epoch,
        };
        return (user, new Wallet(Shortfall, 0, epoch));
    }
}
