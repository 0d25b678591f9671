using Apptork.Root.Platform.Localization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Checkout;

/// <summary>A number of credits sold at a price; managed by operators, its name translated per language (<see cref="CreditPackNames"/>).</summary>
public sealed class CreditPack
{
    public const int MaxIdLength = 64;

    /// <summary>Google Play allows 139 characters in a product id, the App Store fewer.</summary>
    public const int MaxStoreProductIdLength = 150;

    public required string Id { get; set; }

    public long Credits { get; set; }

    /// <summary>In the currency's minor unit (cents), as Stripe takes it.</summary>
    public long Price { get; set; }

    /// <summary>ISO 4217, lower case (<c>usd</c>), as Stripe takes it.</summary>
    public required string Currency { get; set; }

    /// <summary>Inactive packs are no longer sold; payments made for them keep their own copy of credits and price.</summary>
    public bool IsActive { get; set; } = true;

    public int SortOrder { get; set; }

    /// <summary>The consumable product that sells this pack in the App Store (its id in App Store Connect); none when not sold there.</summary>
    public string? AppStoreProductId { get; set; }

    /// <summary>The one-time product that sells this pack in Google Play (its id in Play Console); none when not sold there.</summary>
    public string? GooglePlayProductId { get; set; }
}

public sealed class CreditPackConfiguration : IEntityTypeConfiguration<CreditPack>
{
    public void Configure(EntityTypeBuilder<CreditPack> builder)
    {
        builder.ToTable("credit_packs", table =>
        {
            table.HasCheckConstraint("ck_credit_packs_credits_positive", "credits > 0");
            table.HasCheckConstraint("ck_credit_packs_price_positive", "price > 0");
        });
        builder.HasKey(pack => pack.Id);
        builder.Property(pack => pack.Id).HasMaxLength(CreditPack.MaxIdLength);
        builder.Property(pack => pack.Currency).HasMaxLength(3);
        builder.Property(pack => pack.AppStoreProductId).HasMaxLength(CreditPack.MaxStoreProductIdLength);
        builder.Property(pack => pack.GooglePlayProductId).HasMaxLength(CreditPack.MaxStoreProductIdLength);
        // A store purchase names its product: each product credits one pack.
        builder.HasIndex(pack => pack.AppStoreProductId).IsUnique();
        builder.HasIndex(pack => pack.GooglePlayProductId).IsUnique();
        builder.HasData(DefaultPacks.Packs.Select(pack => new { pack.Id, pack.Credits, pack.Price, pack.Currency, pack.IsActive, pack.SortOrder }));
    }
}

/// <summary>
/// What a new installation sells until its operators change it, so checkout works from the first start. Their names, in
/// the five languages, are written by the migrations into the translations table.
/// </summary>
internal static class DefaultPacks
{
    public static readonly CreditPack[] Packs =
    [
        new() { Id = "starter", Credits = 100, Price = 499, Currency = "usd", SortOrder = 1 },
        new() { Id = "standard", Credits = 500, Price = 1999, Currency = "usd", SortOrder = 2 },
        new() { Id = "pro", Credits = 1500, Price = 4999, Currency = "usd", SortOrder = 3 },
    ];
}

/// <summary>A pack's translated name, in the one table of translated texts.</summary>
public static class CreditPackNames
{
    public static readonly TranslatedOwner Owner = new("credit_pack");
    public const string Field = "name";

    /// <summary>Each pack's name in the request's language (or the nearest one it has); a pack with no name is called by its id.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> InCurrentCultureAsync(
        this Translations translations, IReadOnlyCollection<string> packIds, CancellationToken cancellationToken)
    {
        var names = await translations.ReadAsync(Owner, packIds, cancellationToken);
        return packIds.ToDictionary(id => id, id => names.Get(id, Field).ForCurrentCulture() is { Length: > 0 } name ? name : id);
    }
}
