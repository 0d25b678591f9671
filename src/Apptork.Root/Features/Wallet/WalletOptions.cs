using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Wallet;

/// <summary><c>Wallet__SignupBonus</c>: credits a new account receives, when deduplication finds it eligible (0 turns it off).</summary>
public sealed class WalletOptions
{
    public const string Section = "Wallet";

    [Range(0, 1_000_000)]
    public long SignupBonus { get; set; } = 10;
}
