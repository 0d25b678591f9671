using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Platform.Localization;

/// <summary>
/// Reads and writes the translated fields of entities. A feature names its entity kind once (an
/// <see cref="TranslatedOwner"/>) and its fields, and reads them with <see cref="ReadAsync"/> for a page of entities
/// at once; writes join the caller's unit of work (its <c>SaveChangesAsync</c>, its transaction).
/// </summary>
public sealed class Translations(RootDbContext db)
{
    /// <summary>Every translated field of these entities: (entity id, field) → text.</summary>
    public async Task<TranslatedFields> ReadAsync(TranslatedOwner owner, IReadOnlyCollection<string> ownerIds, CancellationToken cancellationToken)
    {
        var rows = ownerIds.Count == 0
            ? []
            : await db.Translations.AsNoTracking()
                .Where(translation => translation.Owner == owner.Name && ownerIds.Contains(translation.OwnerId))
                .ToListAsync(cancellationToken);
        return new TranslatedFields(rows
            .GroupBy(row => (row.OwnerId, row.Field))
            .ToDictionary(group => group.Key, group => new TranslatedText(group.ToDictionary(row => row.Language, row => row.Text))));
    }

    /// <summary>
    /// Replaces one field's languages with <paramref name="byLanguage"/> (already validated: see
    /// <see cref="TranslatedTextRules"/>); saved with the caller's next <c>SaveChangesAsync</c>.
    /// </summary>
    public async Task WriteAsync(
        TranslatedOwner owner, string ownerId, string field, IReadOnlyDictionary<string, string> byLanguage, CancellationToken cancellationToken)
    {
        var wanted = byLanguage.ToDictionary(pair => TranslatedText.CanonicalLanguage(pair.Key) ?? pair.Key, pair => pair.Value);
        var existing = await db.Translations
            .Where(translation => translation.Owner == owner.Name && translation.OwnerId == ownerId && translation.Field == field)
            .ToListAsync(cancellationToken);
        foreach (var row in existing)
        {
            if (wanted.Remove(row.Language, out var text))
            {
                row.Text = text;
            }
            else
            {
                db.Translations.Remove(row);
            }
        }

        foreach (var (language, text) in wanted)
        {
            db.Translations.Add(new Translation { Owner = owner.Name, OwnerId = ownerId, Field = field, Language = language, Text = text });
        }
    }

    /// <summary>Removes every translated field of an entity that is being deleted (no foreign key does it).</summary>
    public Task RemoveAllAsync(TranslatedOwner owner, string ownerId, CancellationToken cancellationToken) =>
        db.Translations.Where(translation => translation.Owner == owner.Name && translation.OwnerId == ownerId).ExecuteDeleteAsync(cancellationToken);
}

/// <summary>A kind of entity with translated fields, by the name its rows carry (<c>credit_pack</c>).</summary>
public sealed record TranslatedOwner(string Name);

/// <summary>The translated fields of a set of entities, as read by <see cref="Translations.ReadAsync"/>.</summary>
public sealed class TranslatedFields(Dictionary<(string OwnerId, string Field), TranslatedText> fields)
{
    private static readonly TranslatedText None = new(new Dictionary<string, string>());

    /// <summary>The field's text; an empty one (every language "") when the entity has none.</summary>
    public TranslatedText Get(string ownerId, string field) => fields.GetValueOrDefault((ownerId, field)) ?? None;
}
