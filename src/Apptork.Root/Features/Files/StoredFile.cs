using Apptork.Root.Features.Auth.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Files;

public enum StoredFileStatus
{
    /// <summary>Signed for upload; nothing verified has arrived yet.</summary>
    Pending,
    /// <summary>The bytes are in storage, of the declared size and type.</summary>
    Ready,
}

/// <summary>A user's file in <c>IFileStorage</c>: an upload, or an output the server made (a generated image).</summary>
public sealed class StoredFile
{
    public const int MaxFilenameLength = 255;

    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    /// <summary>The name the user knows it by; shown and used for downloads, never as a storage path.</summary>
    public required string Filename { get; set; }

    public required string ContentType { get; set; }

    /// <summary>Bytes: declared at signing, verified at completion.</summary>
    public long Size { get; set; }

    public StoredFileStatus Status { get; set; }

    /// <summary>Where the verified bytes are: <c>users/{user}/{file}</c>. No signed upload URL points here.</summary>
    public required string StorageKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public static string KeyFor(Guid userId, Guid fileId) => $"users/{userId:N}/{fileId:N}";

    /// <summary>
    /// Where the signed upload URL puts the bytes, apart from <see cref="StorageKey"/>: completion moves them over once
    /// checked, so a PUT to the URL after completion, while it still works, cannot change what downloads serve.
    /// </summary>
    public static string UploadKeyFor(Guid userId, Guid fileId) => $"uploads/{userId:N}/{fileId:N}";

    public string UploadKey => UploadKeyFor(UserId, Id);
}

public sealed class StoredFileConfiguration : IEntityTypeConfiguration<StoredFile>
{
    public void Configure(EntityTypeBuilder<StoredFile> builder)
    {
        builder.ToTable("files");
        builder.HasKey(file => file.Id);
        builder.Property(file => file.Filename).HasMaxLength(StoredFile.MaxFilenameLength);
        builder.Property(file => file.ContentType).HasMaxLength(100);
        builder.Property(file => file.StorageKey).HasMaxLength(200);
        builder.Property(file => file.Status).HasConversion<string>().HasMaxLength(20);
        // The list's keyset: newest first, the id breaking ties.
        builder.HasIndex(file => new { file.UserId, file.CreatedAt, file.Id });
        builder.Ignore(file => file.UploadKey);
        // The clean-up's search for pending uploads whose URL has expired.
        builder.HasIndex(file => new { file.Status, file.CreatedAt });
        builder.HasOne<User>().WithMany().HasForeignKey(file => file.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}
