using System.Globalization;
using System.Resources;

namespace Apptork.Root.Admin;

/// <summary>
/// The control plane's texts, from <c>Resources/AdminTexts.*.resx</c> in the request's UI culture, through the same
/// mechanism as the API's error messages (English is the neutral file).
/// </summary>
public static class AdminTexts
{
    public static ResourceManager Resources { get; } = new("Apptork.Root.Resources.AdminTexts", typeof(AdminTexts).Assembly);

    public static string Get(string name) =>
        Resources.GetString(name, CultureInfo.CurrentUICulture)
        ?? throw new InvalidOperationException($"The text '{name}' is missing from Resources/AdminTexts.resx.");

    public static string Format(string name, params object[] values) => string.Format(CultureInfo.CurrentCulture, Get(name), values);
}
