using System.Text.Json;

namespace Apptork.Root.Admin.Audit;

/// <summary>
/// The before and after of a change as its audit row keeps them: only the fields that changed, and operators' long
/// texts clipped, so that a row always fits its columns.
/// </summary>
public static class AuditState
{
    /// <summary>Each text of an audited translation is kept up to this many characters.</summary>
    public const int MaxTextLength = 80;

    /// <summary>The fields whose values differ, each side on its own; null for a side with nothing (a creation's before).</summary>
    public static (Dictionary<string, object?>? Before, Dictionary<string, object?>? After) Changes(
        IReadOnlyDictionary<string, object?>? before, IReadOnlyDictionary<string, object?>? after)
    {
        if (before is null || after is null)
        {
            return (Fit(before), Fit(after));
        }

        var changed = after.Keys.Union(before.Keys)
            .Where(key => JsonSerializer.Serialize(before.GetValueOrDefault(key)) != JsonSerializer.Serialize(after.GetValueOrDefault(key)))
            .ToList();
        return (Fit(changed.ToDictionary(key => key, before.GetValueOrDefault)), Fit(changed.ToDictionary(key => key, after.GetValueOrDefault)));
    }

    /// <summary>A translation's texts, clipped, by language.</summary>
    public static SortedDictionary<string, string> Texts(IReadOnlyDictionary<string, string>? byLanguage) =>
        new((byLanguage ?? new Dictionary<string, string>()).ToDictionary(
            pair => pair.Key, pair => pair.Value.Length <= MaxTextLength ? pair.Value : $"{pair.Value[..MaxTextLength]}…"), StringComparer.Ordinal);

    /// <summary>
    /// The state as it is, or, should it still be too long for its column (texts of many languages in escaped
    /// characters), with each translation reduced to its languages.
    /// </summary>
    private static Dictionary<string, object?>? Fit(IReadOnlyDictionary<string, object?>? state)
    {
        if (state is null)
        {
            return null;
        }

        var fitted = new Dictionary<string, object?>(state);
        if (JsonSerializer.Serialize(fitted).Length <= AdminAuditEntry.MaxStateLength)
        {
            return fitted;
        }

        foreach (var (key, value) in state)
        {
            if (value is SortedDictionary<string, string> texts)
            {
                fitted[key] = texts.Keys.ToList();
            }
        }

        return fitted;
    }
}
