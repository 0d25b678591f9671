using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Wallet;

/// <summary><c>Wallet__SignupBonus</c>: credits a new account receives, when deduplication finds it eligible (0 turns it off).</summary>
public sealed class WalletOptions
{
    public const string Section = "Wallet";

    [Range(0, 1_000_000)]
    public long SignupBonus { get; set; } = 10;
}

/// <summary>Credits the signup bonus through the ledger, at most once per account (its idempotency key says so).</summary>
public sealed class SignupBonus(Ledger ledger, IOptions<WalletOptions> options)
{
    public const string IdempotencyKey = "signup-bonus";

    public async Task GrantAsync(Guid userId, bool eligible, CancellationToken cancellationToken)
    {
        var amount = options.Value.SignupBonus;
        if (eligible && amount > 0)
        {
            await ledger.PostAsync(userId, amount, LedgerEntryKind.SignupBonus, IdempotencyKey, reference: null, @operator: null, memo: null, cancellationToken);
        }
    }
}
