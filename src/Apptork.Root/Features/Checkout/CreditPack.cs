using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Checkout;

/// <summary>A number of credits sold at a price; managed by operators, its name translated per language.</summary>
public sealed class CreditPack
{
    public const int MaxIdLength = 64;

    public required string Id { get; set; }

    public long Credits { get; set; }

    /// <summary>In the currency's minor unit (cents), as Stripe takes it.</summary>
    public long Price { get; set; }

    /// <summary>ISO 4217, lower case (<c>usd</c>), as Stripe takes it.</summary>
    public required string Currency { get; set; }

    /// <summary>Inactive packs are no longer sold; payments made for them keep their own copy of credits and price.</summary>
    public bool IsActive { get; set; } = true;

    public int SortOrder { get; set; }

    public List<CreditPackName> Names { get; set; } = [];

    /// <summary>The name in the request's language, its parent, English, or the id: the same fallback chain as static texts (fr-CA, then fr, then English).</summary>
    public string NameFor(CultureInfo culture)
    {
        for (var candidate = culture; !Equals(candidate, CultureInfo.InvariantCulture); candidate = candidate.Parent)
        {
            if (Names.FirstOrDefault(name => string.Equals(name.Language, candidate.Name, StringComparison.OrdinalIgnoreCase)) is { } found)
            {
                return found.Name;
            }
        }

        return Names.FirstOrDefault(name => name.Language == DefaultLanguage)?.Name ?? Id;
    }

    public const string DefaultLanguage = "en";
}

/// <summary>One translation of a pack's name (<c>pt-BR</c>, <c>fr</c>, ...).</summary>
public sealed class CreditPackName
{
    public required string PackId { get; set; }

    public required string Language { get; set; }

    public required string Name { get; set; }
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
        builder.HasMany(pack => pack.Names).WithOne().HasForeignKey(name => name.PackId).OnDelete(DeleteBehavior.Cascade);
        builder.HasData(DefaultPacks.Packs.Select(pack => new { pack.Id, pack.Credits, pack.Price, pack.Currency, pack.IsActive, pack.SortOrder }));
    }
}

public sealed class CreditPackNameConfiguration : IEntityTypeConfiguration<CreditPackName>
{
    public void Configure(EntityTypeBuilder<CreditPackName> builder)
    {
        builder.ToTable("credit_pack_names");
        builder.HasKey(name => new { name.PackId, name.Language });
        builder.Property(name => name.Language).HasMaxLength(10);
        builder.Property(name => name.Name).HasMaxLength(100);
        builder.HasData(DefaultPacks.Names);
    }
}

/// <summary>What a new installation sells until its operators change it, so checkout works from the first start.</summary>
internal static class DefaultPacks
{
    public static readonly CreditPack[] Packs =
    [
        new() { Id = "starter", Credits = 100, Price = 499, Currency = "usd", SortOrder = 1 },
        new() { Id = "standard", Credits = 500, Price = 1999, Currency = "usd", SortOrder = 2 },
        new() { Id = "pro", Credits = 1500, Price = 4999, Currency = "usd", SortOrder = 3 },
    ];

    public static readonly CreditPackName[] Names =
    [
        .. Translations("starter", "Starter pack", "Paquete inicial", "Pack découverte", "Startpaket", "Pacote inicial"),
        .. Translations("standard", "Standard pack", "Paquete estándar", "Pack standard", "Standardpaket", "Pacote padrão"),
        .. Translations("pro", "Pro pack", "Paquete pro", "Pack pro", "Profipaket", "Pacote pro"),
    ];

    private static IEnumerable<CreditPackName> Translations(string packId, string en, string es, string fr, string de, string ptBr) =>
        new[] { ("en", en), ("es", es), ("fr", fr), ("de", de), ("pt-BR", ptBr) }
            .Select(translation => new CreditPackName { PackId = packId, Language = translation.Item1, Name = translation.Item2 });
}
