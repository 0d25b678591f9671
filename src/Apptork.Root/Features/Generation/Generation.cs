using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Features.Auth.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Generation;

public enum GenerationType
{
    Text,
    Image,
}

public enum GenerationStatus
{
    Queued,
    Running,
    Succeeded,
    /// <summary>Final: every attempt failed (or no worker finished it in time), and the cost was refunded or the hold released.</summary>
    Failed,
}

/// <summary>
/// One request for AI output: paid for when created (fixed pricing), or holding the most it can cost and charged what it
/// used when it ends (usage pricing); refunded, or its hold released, once if it finally fails.
/// </summary>
public sealed class Generation
{
    public const int MaxErrorLength = 500;

    /// <summary>
    /// A UUID v7 from the creation time: unguessable in what it tells of our volume, yet time-ordered, so lists page by
    /// it (newest first) and the index only grows at its end.
    /// </summary>
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public GenerationType Type { get; set; }

    public required string Prompt { get; set; }

    /// <summary>The image size asked for (<c>1024x1024</c>…); the provider's default when null.</summary>
    public string? ImageSize { get; set; }

    /// <summary>The longest text answer asked for, in tokens; the provider's default when null.</summary>
    public int? MaxOutputTokens { get; set; }

    public GenerationStatus Status { get; set; }

    /// <summary>
    /// Credits charged: under fixed pricing, when it was created; under usage pricing, 0 until it succeeds, then what its
    /// tokens cost (never more than <see cref="Hold"/>).
    /// </summary>
    public long Cost { get; set; }

    /// <summary>
    /// Usage pricing: the credits held while it runs, the most it can cost; 0 for a retry staff started after the
    /// failure that released them (run free, as a fixed-price retry is not charged again). Null under fixed pricing.
    /// </summary>
    public long? Hold { get; set; }

    /// <summary>Credits still held for it: its <see cref="Hold"/> until it ends.</summary>
    public long HeldNow => IsFinished ? 0 : Hold ?? 0;

    public int Attempts { get; set; }

    public string? ResultText { get; set; }

    /// <summary>The tokens the provider reported reading for the text that succeeded; null when it reported none.</summary>
    public int? InputTokens { get; set; }

    /// <summary>The tokens the provider reported writing for the text that succeeded; null when it reported none.</summary>
    public int? OutputTokens { get; set; }

    /// <summary>The generated image, a file of the user's.</summary>
    public Guid? ResultFileId { get; set; }

    /// <summary>Why the last attempt failed, in the operator's words (never shown to users verbatim).</summary>
    public string? Error { get; set; }

    /// <summary>
    /// The creating request's Idempotency-Key, unique per user: a request run again because its kept answer was lost (the
    /// process died between this commit and keeping the answer) finds this generation instead of paying for a second.
    /// </summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>
    /// The digest of the creating request (<see cref="IdempotentRequest.RequestHash"/>): a re-run under the same key with
    /// another request is refused, as the kept answer would have refused it. Null for generations created before it was kept.
    /// </summary>
    public byte[]? RequestHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public bool IsFinished => Status is GenerationStatus.Succeeded or GenerationStatus.Failed;

    public string Reference => $"generation:{Id}";

    public string ChargeKey => $"{Reference}:charge";

    public string RefundKey => $"{Reference}:refund";

    public string HoldKey => $"{Reference}:hold";

    public string ReleaseKey => $"{Reference}:release";
}

public sealed class GenerationConfiguration : IEntityTypeConfiguration<Generation>
{
    public void Configure(EntityTypeBuilder<Generation> builder)
    {
        builder.ToTable("generations");
        builder.HasKey(generation => generation.Id);
        builder.Property(generation => generation.Id).ValueGeneratedNever();
        builder.Property(generation => generation.Type).HasConversion<string>().HasMaxLength(10);
        builder.Property(generation => generation.Status).HasConversion<string>().HasMaxLength(20);
        builder.Property(generation => generation.Prompt).HasMaxLength(GenerationOptions.MaxPromptLengthLimit);
        builder.Property(generation => generation.Error).HasMaxLength(Generation.MaxErrorLength);
        builder.Property(generation => generation.ImageSize).HasMaxLength(20);
        builder.Property(generation => generation.IdempotencyKey).HasMaxLength(IdempotencyRecord.MaxKeyLength);
        builder.Property(generation => generation.RequestHash).HasMaxLength(32);
        builder.HasIndex(generation => new { generation.UserId, generation.CreatedAt, generation.Id });
        builder.HasIndex(generation => new { generation.UserId, generation.IdempotencyKey }).IsUnique();
        // The recovery sweep looks for unfinished ones.
        builder.HasIndex(generation => new { generation.Status, generation.UpdatedAt });
        builder.HasOne<User>().WithMany().HasForeignKey(generation => generation.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}
