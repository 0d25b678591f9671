using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Wallet;

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
