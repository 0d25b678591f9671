using System.Globalization;
using System.Resources;

namespace Apptork.Root.Admin;

/// <summary>
/// The control plane's texts, from <c>Resources/AdminTexts.*.resx</c> in the request's UI culture, through the same
/// mechanism as the API's error messages (English is the neutral file).
/// </summary>
public static class AdminTexts
{
    private static readonly ResourceManager Resources = new("Apptork.Root.Resources.AdminTexts", typeof(AdminTexts).Assembly);

    public static string Get(string name) =>
        Resources.GetString(name, CultureInfo.CurrentUICulture)
        ?? throw new InvalidOperationException($"The text '{name}' is missing from Resources/AdminTexts.resx.");

    public static string Format(string name, params object[] values) => string.Format(CultureInfo.CurrentCulture, Get(name), values);

    /// <summary>
    /// The language the texts are actually in for the request's UI culture (its nearest culture with a file of its own,
    /// else English), for the page's <c>lang</c>: a page must not claim a language it falls back from.
    /// </summary>
    public static string Language
    {
        get
        {
            for (var culture = CultureInfo.CurrentUICulture; culture != CultureInfo.InvariantCulture; culture = culture.Parent)
            {
                if (culture.Name != "en" && Resources.GetResourceSet(culture, createIfNotExists: true, tryParents: false) is not null)
                {
                    return culture.Name;
                }
            }

            return "en";
        }
    }
}
