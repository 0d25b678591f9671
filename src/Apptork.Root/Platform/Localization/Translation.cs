using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Platform.Localization;

/// <summary>
/// One language of one translated field of one entity: (<c>credit_pack</c>, <c>starter</c>, <c>name</c>, <c>fr</c>) →
/// "Pack découverte". Every translated text of the product lives in this one table; see <see cref="Translations"/>.
/// </summary>
public sealed class Translation
{
    public const int MaxTextLength = 4000;

    /// <summary>The kind of entity (<c>credit_pack</c>, <c>message</c>, <c>feature_flag</c>).</summary>
    public required string Owner { get; set; }

    /// <summary>The entity's id, as text.</summary>
    public required string OwnerId { get; set; }

    public required string Field { get; set; }

    /// <summary>A canonical tag of <see cref="TranslatedText.Languages"/> (<c>pt-BR</c>, <c>pt</c>, <c>en</c>).</summary>
    public required string Language { get; set; }

    public required string Text { get; set; }
}

public sealed class TranslationConfiguration : IEntityTypeConfiguration<Translation>
{
    public void Configure(EntityTypeBuilder<Translation> builder)
    {
        builder.ToTable("translations");
        builder.HasKey(translation => new { translation.Owner, translation.OwnerId, translation.Field, translation.Language });
        builder.Property(translation => translation.Owner).HasMaxLength(32);
        builder.Property(translation => translation.OwnerId).HasMaxLength(64);
        builder.Property(translation => translation.Field).HasMaxLength(32);
        builder.Property(translation => translation.Language).HasMaxLength(10);
        builder.Property(translation => translation.Text).HasMaxLength(Translation.MaxTextLength);
    }
}
