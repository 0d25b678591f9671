using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Localization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// A feature turned on or off for some callers, changed live by operators. <see cref="Enabled"/> is the kill switch: off
/// wins over every other rule; on, the caller must pass every rule that is set (rollout, roles, platforms, versions,
/// schedule).
/// </summary>
public sealed class FeatureFlag
{
    public const int MaxKeyLength = 64;

    /// <summary>snake_case, as apps and <c>RequireFeature</c> name it (<c>ai_generation</c>).</summary>
    public required string Key { get; set; }

    public bool Enabled { get; set; }

    /// <summary>0–100: the share of users (or devices, for anonymous callers) that get it, the same ones as it grows.</summary>
    public int RolloutPercentage { get; set; } = 100;

    /// <summary>Only these roles (<c>free</c>, <c>premium</c>, <c>staff</c>); empty: every caller, anonymous included.</summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Only these platforms (<c>ios</c>, <c>android</c>, <c>web</c>); empty: every caller, whatever it says.</summary>
    public List<string> Platforms { get; set; } = [];

    /// <summary>The lowest app version that gets it, inclusive (semantic version order).</summary>
    public string? MinAppVersion { get; set; }

    /// <summary>The highest app version that gets it, inclusive.</summary>
    public string? MaxAppVersion { get; set; }

    public DateTimeOffset? StartsAt { get; set; }

    /// <summary>Off from this instant on.</summary>
    public DateTimeOffset? EndsAt { get; set; }

    /// <summary>The staff user who made the last change; null for a flag written by a migration or a command.</summary>
    public Guid? UpdatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class FeatureFlagConfiguration : IEntityTypeConfiguration<FeatureFlag>
{
    public void Configure(EntityTypeBuilder<FeatureFlag> builder)
    {
        builder.ToTable("feature_flags", table =>
            table.HasCheckConstraint("ck_feature_flags_rollout_percentage", "rollout_percentage BETWEEN 0 AND 100"));
        builder.HasKey(flag => flag.Key);
        builder.Property(flag => flag.Key).HasMaxLength(FeatureFlag.MaxKeyLength);
        // A short list of known words each: kept as one comma-separated column, readable in both databases.
        builder.Property(flag => flag.Roles).HasMaxLength(64).HasConversion(WordList.Converter, WordList.Comparer);
        builder.Property(flag => flag.Platforms).HasMaxLength(64).HasConversion(WordList.Converter, WordList.Comparer);
        builder.Property(flag => flag.MinAppVersion).HasMaxLength(AppVersions.MaxLength);
        builder.Property(flag => flag.MaxAppVersion).HasMaxLength(AppVersions.MaxLength);
    }

    private static class WordList
    {
        public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<List<string>, string> Converter = new(
            words => string.Join(',', words),
            column => column.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList());

        public static readonly Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<string>> Comparer = new(
            (left, right) => left!.SequenceEqual(right!),
            words => words.Aggregate(0, (hash, word) => HashCode.Combine(hash, word.GetHashCode(StringComparison.Ordinal))),
            words => words.ToList());
    }
}

/// <summary>A flag's translated description, in the one table of translated texts.</summary>
public static class FeatureFlagTexts
{
    public static readonly TranslatedOwner Owner = new("feature_flag");
    public const string Description = "description";
    public const int MaxDescriptionLength = 500;
}
