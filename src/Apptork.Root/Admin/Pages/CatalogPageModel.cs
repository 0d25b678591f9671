using Apptork.Root.Admin.Catalog;
using Apptork.Root.Admin.Security;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;

namespace Apptork.Root.Admin.Pages;

/// <summary>What the catalog screens (flags, messages, domain rules) share: who may change, and refusals by field.</summary>
public abstract class CatalogPageModel : AdminPageModel
{
    /// <summary>The languages an operator writes translated texts in, the default first.</summary>
    public static IReadOnlyList<string> Languages { get; } = LocalizationSetup.SupportedCultures.Select(culture => culture.Name).ToList();

    /// <summary>One line per refused field, naming it.</summary>
    public IReadOnlyList<string> FieldErrors { get; private set; } = [];

    /// <summary>Whether this member may change what the page shows (the handlers check it again: see <see cref="ChangesNeedPolicyAttribute"/>).</summary>
    public bool CanChange => User.IsInRole(Staff.StaffRoles.Superuser);

    /// <summary>The form's labels by the API's field names, for the refusals.</summary>
    protected abstract IReadOnlyDictionary<string, string> FieldLabels { get; }

    /// <summary>Shows the result: its notice when done, its refusals otherwise. True when done.</summary>
    protected bool Show(CatalogResult result, string notice)
    {
        Error = result.Error;
        FieldErrors = FormErrors.Lines(result.FieldErrors, FieldLabels);
        Notice = result.Succeeded ? notice : null;
        return result.Succeeded;
    }

    /// <summary>Values the form could not even read (a number that is not one) are refused by field before anything else.</summary>
    protected bool RefuseUnreadableFields(IReadOnlyDictionary<string, string> formNames)
    {
        var unreadable = ModelState.Where(entry => entry.Value?.Errors.Count > 0)
            .Select(entry => new ApiError(ErrorCatalog.Invalid, formNames.GetValueOrDefault(entry.Key, entry.Key)))
            .ToList();
        if (unreadable.Count == 0)
        {
            return false;
        }

        Show(CatalogResult.Invalid(unreadable), string.Empty);
        return true;
    }

    /// <summary>A <c>datetime-local</c> field, read as UTC (the forms say so).</summary>
    protected static DateTimeOffset? Utc(DateTime? local) =>
        local is { } value ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Unspecified), TimeSpan.Zero) : null;

    /// <summary>The value of a <c>datetime-local</c> field, in UTC.</summary>
    public static string LocalValue(DateTime? utc) =>
        utc?.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;

    /// <summary>
    /// A translated field as posted, one <c>Field[language]</c> input per language. Read from the form itself: a
    /// dictionary bound by model binding takes every other field of the form when none of its own was posted.
    /// </summary>
    protected Dictionary<string, string?> PostedTexts(string field) =>
        Languages.ToDictionary(language => language, language => (string?)Request.Form[$"{field}[{language}]"].ToString());

    /// <summary>The texts written, without the languages left empty.</summary>
    protected static Dictionary<string, string?>? Written(Dictionary<string, string?> byLanguage) =>
        byLanguage.Where(pair => !string.IsNullOrWhiteSpace(pair.Value)).ToDictionary(pair => pair.Key, pair => pair.Value);
}
