using System.Globalization;
using System.Resources;
using System.Text.RegularExpressions;

// The neutral ErrorMessages.resx is the English text: "en" is found in the main assembly itself, never searched for
// as a satellite, and asking for exactly "en" does not depend on what an earlier lookup left in the cache.
[assembly: NeutralResourcesLanguage("en")]

namespace Apptork.Root.Platform.Localization;

/// <summary>
/// The human text of each error code, from <c>Resources/ErrorMessages.*.resx</c>, in the current UI culture
/// with .NET's parent-culture fallback (fr-CA → fr → English). Placeholders are named (<c>{max_length}</c>) so
/// translators can move them.
/// </summary>
public static partial class ErrorMessages
{
    public static ResourceManager Resources { get; } =
        new("Apptork.Root.Resources.ErrorMessages", typeof(ErrorMessages).Assembly);

    public static string Get(string code, IReadOnlyDictionary<string, object?>? args = null, CultureInfo? culture = null)
    {
        var template = Resources.GetString(code, culture ?? CultureInfo.CurrentUICulture)
            ?? throw new InvalidOperationException($"Error code '{code}' has no message in Resources/ErrorMessages.resx.");
        if (args is null || args.Count == 0)
        {
            return template;
        }

        return Placeholder().Replace(template, match =>
            args.TryGetValue(match.Groups[1].Value, out var value)
                ? Convert.ToString(value, culture ?? CultureInfo.CurrentCulture) ?? string.Empty
                : match.Value);
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex Placeholder();
}
