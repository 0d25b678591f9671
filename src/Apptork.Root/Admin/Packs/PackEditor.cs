using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Packs;

/// <summary>A credit pack with its name in every language it has, as the packs screen shows and edits it.</summary>
public sealed record PackState(
    string Id, long Credits, long Price, string Currency, bool IsActive, int SortOrder, IReadOnlyDictionary<string, string> Names,
    string? AppStoreProductId, string? GooglePlayProductId)
{
    /// <summary>
    /// A digest of everything the form edits: the form carries the one it was shown with, and a pack whose digest changed
    /// meanwhile is not overwritten. Packs have no version column of their own.
    /// </summary>
    public string Version()
    {
        var names = string.Join('\n', Names.OrderBy(name => name.Key, StringComparer.Ordinal).Select(name => $"{name.Key}={name.Value}"));
        var text = $"{Credits}\n{Price}\n{Currency}\n{IsActive}\n{SortOrder}\n{AppStoreProductId}\n{GooglePlayProductId}\n{names}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
    }
}

/// <summary>What the form sent; each field is checked on the server and named in its error.</summary>
public sealed record PackForm(
    string? Id, long? Credits, long? Price, string? Currency, bool IsActive, int? SortOrder, IReadOnlyDictionary<string, string?> Names,
    string? AppStoreProductId = null, string? GooglePlayProductId = null);

/// <summary>
/// The superuser's management of credit packs: their price, currency, credits, whether they are sold, and their name per
/// language in the translations table that <c>GET /api/v1/checkout/packs</c> reads (<see cref="CreditPackNames"/>). A
/// pack's change and its audit row are saved together. Payments keep their own copy of credits and price, so an edit
/// changes only what is sold from then on.
/// </summary>
public sealed partial class PackEditor(RootDbContext database, Translations translations, AdminAudit audit)
{
    public const long MaxCredits = 10_000_000;

    /// <summary>Stripe's largest amount for a charge in most currencies (eight digits).</summary>
    public const long MaxPrice = 99_999_999;

    public const int MaxSortOrder = 100_000;

    public const int MaxNameLength = 100;

    /// <summary>The languages the form offers: the API's own, the default first.</summary>
    public static IReadOnlyList<string> Languages { get; } = LocalizationSetup.SupportedCultures.Select(culture => culture.Name).ToList();

    public async Task<IReadOnlyList<PackState>> ListAsync(CancellationToken cancellationToken)
    {
        var packs = await database.CreditPacks.AsNoTracking().OrderBy(pack => pack.SortOrder).ThenBy(pack => pack.Id).ToListAsync(cancellationToken);
        var names = await translations.ReadAsync(CreditPackNames.Owner, packs.Select(pack => pack.Id).ToList(), cancellationToken);
        return packs.Select(pack => State(pack, names)).ToList();
    }

    public async Task<PackState?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var pack = await database.CreditPacks.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        return pack is null ? null : State(pack, await translations.ReadAsync(CreditPackNames.Owner, [id], cancellationToken));
    }

    /// <summary>
    /// Creates the pack (<paramref name="existingId"/> null) or changes it when it is still as the form showed it
    /// (<paramref name="expectedVersion"/>); the text keys of what was refused, empty when saved.
    /// </summary>
    public async Task<IReadOnlyList<string>> SaveAsync(
        string? existingId, PackForm form, string? expectedVersion, AuditActor actor, CancellationToken cancellationToken)
    {
        var errors = Validate(form, creating: existingId is null);
        if (errors.Count > 0)
        {
            return errors;
        }

        var names = new Dictionary<string, string>();
        foreach (var (language, text) in form.Names.Where(name => !string.IsNullOrWhiteSpace(name.Value)))
        {
            names[TranslatedText.CanonicalLanguage(language)!] = text!.Trim();
        }

        await using var transaction = await database.Database.BeginTransactionAsync(cancellationToken);
        CreditPack pack;
        PackState? before = null;
        if (existingId is null)
        {
            var id = form.Id!.Trim();
            if (await database.CreditPacks.AnyAsync(candidate => candidate.Id == id, cancellationToken))
            {
                return ["ErrorPackIdTaken"];
            }

            pack = new CreditPack { Id = id, Currency = string.Empty };
            database.CreditPacks.Add(pack);
        }
        else
        {
            // The row locked first (an UPDATE), so two editors of one pack are compared with each other's saved change.
            if (await database.CreditPacks.Where(candidate => candidate.Id == existingId)
                .ExecuteUpdateAsync(set => set.SetProperty(candidate => candidate.SortOrder, candidate => candidate.SortOrder), cancellationToken) == 0)
            {
                return ["ErrorPackNotFound"];
            }

            before = await FindAsync(existingId, cancellationToken);
            if (before!.Version() != expectedVersion)
            {
                return ["ErrorPackChanged"];
            }

            pack = await database.CreditPacks.SingleAsync(candidate => candidate.Id == existingId, cancellationToken);
        }

        pack.Credits = form.Credits!.Value;
        pack.Price = form.Price!.Value;
        pack.Currency = form.Currency!.Trim().ToLowerInvariant();
        pack.IsActive = form.IsActive;
        pack.SortOrder = form.SortOrder!.Value;
        pack.AppStoreProductId = Blank(form.AppStoreProductId);
        pack.GooglePlayProductId = Blank(form.GooglePlayProductId);
        await translations.WriteAsync(CreditPackNames.Owner, pack.Id, CreditPackNames.Field, names, cancellationToken);
        var after = new PackState(pack.Id, pack.Credits, pack.Price, pack.Currency, pack.IsActive, pack.SortOrder, names, pack.AppStoreProductId, pack.GooglePlayProductId);
        audit.Record(actor, before is null ? AdminActions.PackCreated : AdminActions.PackUpdated, $"pack:{pack.Id}", before, after);
        try
        {
            await database.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            // Another pack sells this store product, or another superuser created the same id at the same moment.
            return [await StoreProductTakenAsync(pack, cancellationToken) ? "ErrorPackStoreProductTaken" : "ErrorPackIdTaken"];
        }

        await transaction.CommitAsync(cancellationToken);
        return [];
    }

    private static List<string> Validate(PackForm form, bool creating)
    {
        var errors = new List<string>();
        if (creating && (form.Id?.Trim() is not { } id || !PackId().IsMatch(id)))
        {
            errors.Add("ErrorPackId");
        }

        if (form.Credits is not (>= 1 and <= MaxCredits))
        {
            errors.Add("ErrorPackCredits");
        }

        if (form.Price is not (>= 1 and <= MaxPrice))
        {
            errors.Add("ErrorPackPrice");
        }

        if (form.Currency?.Trim() is not { } currency || !CurrencyCode().IsMatch(currency))
        {
            errors.Add("ErrorPackCurrency");
        }

        if (form.SortOrder is not (>= 0 and <= MaxSortOrder))
        {
            errors.Add("ErrorPackSortOrder");
        }

        if (!IsStoreProductId(form.AppStoreProductId) || !IsStoreProductId(form.GooglePlayProductId))
        {
            errors.Add("ErrorPackStoreProduct");
        }

        if (string.IsNullOrWhiteSpace(form.Names.GetValueOrDefault(TranslatedText.DefaultLanguage)))
        {
            errors.Add("ErrorPackNameRequired");
        }

        foreach (var (language, text) in form.Names)
        {
            if (TranslatedText.CanonicalLanguage(language) is null)
            {
                errors.Add("ErrorPackNameLanguage");
            }
            else if (text is { } name && (name.Trim().Length > MaxNameLength || !SafeTextRules.IsDisplayable(name.Trim())))
            {
                errors.Add("ErrorPackNameInvalid");
            }
        }

        return errors.Distinct().ToList();
    }

    private static PackState State(CreditPack pack, TranslatedFields names) => new(
        pack.Id, pack.Credits, pack.Price, pack.Currency, pack.IsActive, pack.SortOrder, names.Get(pack.Id, CreditPackNames.Field).ByLanguage,
        pack.AppStoreProductId, pack.GooglePlayProductId);

    private async Task<bool> StoreProductTakenAsync(CreditPack pack, CancellationToken cancellationToken) =>
        await database.CreditPacks.AsNoTracking().AnyAsync(
            other => other.Id != pack.Id
                && ((pack.AppStoreProductId != null && other.AppStoreProductId == pack.AppStoreProductId)
                    || (pack.GooglePlayProductId != null && other.GooglePlayProductId == pack.GooglePlayProductId)),
            cancellationToken);

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static bool IsStoreProductId(string? text) => Blank(text) is not { } id || StoreProductId().IsMatch(id);

    /// <summary>What both stores allow in a product id (Google Play: lower case, digits, '_' and '.'; the App Store adds upper case and '-').</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,149}$")]
    private static partial Regex StoreProductId();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex PackId();

    /// <summary>Three letters, as ISO 4217 codes are; either case, stored lower case as Stripe takes it.</summary>
    [GeneratedRegex("^[A-Za-z]{3}$")]
    private static partial Regex CurrencyCode();
}
