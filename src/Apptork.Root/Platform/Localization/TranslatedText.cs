using System.Globalization;

namespace Apptork.Root.Platform.Localization;

/// <summary>
/// One text an operator wrote in several languages (a message's title, a flag's description, a credit pack's name),
/// stored one row per language (<see cref="Translation"/>) and read in the caller's language with the fallback chain
/// of the static texts: <c>pt-BR</c>, then <c>pt</c>, then the default language; <c>fr-CA</c>, then <c>fr</c>.
/// </summary>
public sealed class TranslatedText(IReadOnlyDictionary<string, string> byLanguage)
{
    /// <summary>The languages a text may be written in: the supported ones, and their parents (<c>pt</c> of <c>pt-BR</c>).</summary>
    public static IReadOnlySet<string> Languages => CanonicalLanguages;

    private static readonly HashSet<string> CanonicalLanguages = LocalizationSetup.SupportedCultures
        .SelectMany(culture => new[] { culture.Name, culture.Parent.Name })
        .Where(name => name.Length > 0)
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The language every text must exist in, the last step of every fallback chain.</summary>
    public static string DefaultLanguage => LocalizationSetup.SupportedCultures[0].Name;

    public IReadOnlyDictionary<string, string> ByLanguage { get; } = byLanguage;

    /// <summary>The text in <paramref name="culture"/> or the nearest language the chain reaches, and which language that is.</summary>
    public (string Text, string Language) In(CultureInfo culture)
    {
        for (var candidate = culture; !Equals(candidate, CultureInfo.InvariantCulture); candidate = candidate.Parent)
        {
            if (Find(candidate.Name) is { } found)
            {
                return found;
            }
        }

        return Find(DefaultLanguage) ?? (string.Empty, DefaultLanguage);
    }

    /// <summary>In the culture of the request (set by the request localization middleware).</summary>
    public string ForCurrentCulture() => In(CultureInfo.CurrentUICulture).Text;

    /// <summary>The canonical spelling of a supported language tag (<c>PT-br</c> → <c>pt-BR</c>), or null.</summary>
    public static string? CanonicalLanguage(string tag) => CanonicalLanguages.TryGetValue(tag, out var canonical) ? canonical : null;

    private (string, string)? Find(string language) =>
        ByLanguage.FirstOrDefault(pair => string.Equals(pair.Key, language, StringComparison.OrdinalIgnoreCase)) is { Key: not null } pair
            ? (pair.Value, pair.Key)
            : null;
}
