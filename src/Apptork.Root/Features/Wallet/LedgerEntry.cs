using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Wallet;

/// <summary>Why credits moved; stored and sent as snake_case (<c>signup_bonus</c>).</summary>
public enum LedgerEntryKind
{
    SignupBonus,
    Purchase,
    Generation,
    Refund,
    Adjustment,
    Reversal,
    /// <summary>Credits set aside for a generation under way (the amount is 0, the held change positive).</summary>
    Hold,
    /// <summary>Held credits a generation did not use, available again (the amount is 0, the held change negative).</summary>
    Release,
}

/// <summary>
/// One change of a wallet, append-only: entries are never updated or deleted, a correction is a new entry.
/// <see cref="BalanceAfter"/> chains the entries of a wallet: each is the previous one plus <see cref="Amount"/>; the
/// sum of <see cref="HeldChange"/> is the wallet's held credits.
/// </summary>
public sealed class LedgerEntry
{
    public const int MaxIdempotencyKeyLength = 255;
    public const int MaxReferenceLength = 255;
    public const int MaxOperatorLength = 255;
    public const int MaxMemoLength = 1000;

    public LedgerEntry(
        Guid userId, long amount, long heldChange, long balanceAfter, LedgerEntryKind kind, string idempotencyKey, string? reference, string? @operator,
        string? memo, DateTimeOffset createdAt)
    {
        UserId = userId;
        Amount = amount;
        HeldChange = heldChange;
        BalanceAfter = balanceAfter;
        Kind = kind;
        IdempotencyKey = idempotencyKey;
        Reference = reference;
        Operator = @operator;
        Memo = memo;
        CreatedAt = createdAt;
    }

    public long Id { get; private set; }

    /// <summary>An entry written by hand (<see cref="IWalletPostingSql"/>), with the id the database gave it.</summary>
    internal static LedgerEntry Stored(
        long id, Guid userId, long amount, long heldChange, long balanceAfter, LedgerEntryKind kind, string idempotencyKey, string? reference,
        string? @operator, string? memo, DateTimeOffset createdAt) =>
        new(userId, amount, heldChange, balanceAfter, kind, idempotencyKey, reference, @operator, memo, createdAt) { Id = id };

    public Guid UserId { get; private set; }

    /// <summary>Credits added (positive) or taken (negative); zero only for a hold or a release.</summary>
    public long Amount { get; private set; }

    /// <summary>Credits set aside (positive: a hold) or no longer (negative: a charge or release of a hold); zero for most entries.</summary>
    public long HeldChange { get; private set; }

    public long BalanceAfter { get; private set; }

    public LedgerEntryKind Kind { get; private set; }

    /// <summary>What caused the entry: a payment, a generation, the entry a reversal undoes.</summary>
    public string? Reference { get; private set; }

    /// <summary>Unique per user: the same operation posted twice is one entry.</summary>
    public string IdempotencyKey { get; private set; }

    /// <summary>Who made a manual entry (an adjustment from the control plane); null for the system's own.</summary>
    public string? Operator { get; private set; }

    public string? Memo { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    private static readonly Dictionary<string, LedgerEntryKind> KindsByName =
        Enum.GetValues<LedgerEntryKind>().ToDictionary(KindName, StringComparer.Ordinal);

    /// <summary>Every kind's name, for the database's check constraint.</summary>
    public static IEnumerable<string> KindNames => KindsByName.Keys;

    /// <summary>The stored and wire name of a kind, <c>signup_bonus</c>.</summary>
    public static string KindName(LedgerEntryKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());

    public static bool TryParseKind(string name, out LedgerEntryKind kind) => KindsByName.TryGetValue(name, out kind);
}

public sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> builder)
    {
        var kindNames = string.Join(", ", LedgerEntry.KindNames.Select(name => $"'{name}'"));
        builder.ToTable("ledger_entries", table =>
        {
            table.HasCheckConstraint("ck_ledger_entries_moves_credits", "amount <> 0 OR held_change <> 0");
            table.HasCheckConstraint("ck_ledger_entries_balance_after_not_negative", "balance_after >= 0");
            table.HasCheckConstraint("ck_ledger_entries_kind", $"kind IN ({kindNames})");
        });
        builder.HasKey(entry => entry.Id);
        builder.Property(entry => entry.Kind).HasMaxLength(32)
            .HasConversion(kind => LedgerEntry.KindName(kind), name => ParseStoredKind(name));
        builder.Property(entry => entry.IdempotencyKey).HasMaxLength(LedgerEntry.MaxIdempotencyKeyLength);
        builder.Property(entry => entry.Reference).HasMaxLength(LedgerEntry.MaxReferenceLength);
        builder.Property(entry => entry.Operator).HasMaxLength(LedgerEntry.MaxOperatorLength);
        builder.Property(entry => entry.Memo).HasMaxLength(LedgerEntry.MaxMemoLength);
        // Replays are recognized by this index, not by a look-up that two concurrent requests could both pass.
        builder.HasIndex(entry => new { entry.UserId, entry.IdempotencyKey }).IsUnique().HasDatabaseName("ux_ledger_entries_user_id_idempotency_key");
        // A wallet's history, newest first, one index range per page; also the reconciliation's chain walk.
        builder.HasIndex(entry => new { entry.UserId, entry.Id }).HasDatabaseName("ix_ledger_entries_user_id_id");
        // The control plane's ledger across wallets, newest first: a range of days is a range of this index (ordered by
        // id, PostgreSQL walked the primary key back from the newest entry through every entry after the range).
        builder.HasIndex(entry => new { entry.CreatedAt, entry.Id }).HasDatabaseName("ix_ledger_entries_created_at_id");
        // Every entry belongs to a wallet row, which the Ledger's update has locked while the entry is written.
        builder.HasOne<Wallet>().WithMany().HasForeignKey(entry => entry.UserId).OnDelete(DeleteBehavior.Restrict);
    }

    private static LedgerEntryKind ParseStoredKind(string name) =>
        LedgerEntry.TryParseKind(name, out var kind) ? kind : throw new InvalidOperationException($"Unknown ledger entry kind '{name}' in the database.");
}
