using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>
/// One <c>Idempotency-Key</c> of one user: the request it was first used for (by hash) and, once answered, the answer
/// that every replay gets again.
/// </summary>
public sealed class IdempotencyRecord
{
    public const int MaxKeyLength = 255;

    public long Id { get; set; }

    public Guid UserId { get; set; }

    public required string Key { get; set; }

    /// <summary>SHA-256 of method, path and body: the same key with another request is refused.</summary>
    public required byte[] RequestHash { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    /// <summary>Null while the first request is still being answered.</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    public int? StatusCode { get; set; }

    public string? ContentType { get; set; }

    public byte[]? Body { get; set; }
}

public sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_records");
        builder.HasKey(record => record.Id);
        builder.Property(record => record.Key).HasMaxLength(IdempotencyRecord.MaxKeyLength);
        builder.Property(record => record.RequestHash).HasMaxLength(32);
        builder.Property(record => record.ContentType).HasMaxLength(100);
        builder.HasIndex(record => new { record.UserId, record.Key }).IsUnique();
        builder.HasIndex(record => record.StartedAt);
    }
}
