using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Validation;
using FluentValidation.Results;

namespace Apptork.Root.Admin.Catalog;

/// <summary>
/// A form's refusals as the operator reads them: the field's label, then the API's own message for the same rule, so
/// the screen and the API refuse the same input with the same words.
/// </summary>
public static class FormErrors
{
    /// <summary>
    /// One line per error. <paramref name="labels"/> names a field by the first part of its API name
    /// (<c>description</c> of <c>description.fr</c>); the rest, a language, follows in parentheses.
    /// </summary>
    public static List<string> Lines(IEnumerable<ApiError> errors, IReadOnlyDictionary<string, string> labels) =>
        errors.Select(error => $"{Label(error.Attr, labels)}: {ErrorMessages.Get(error.Definition.Code, error.Args)}").Distinct().ToList();

    public static List<string> Lines(ValidationResult result, IReadOnlyDictionary<string, string> labels) =>
        Lines(result.Errors.Select(ValidationFilter<object>.ToApiError), labels);

    private static string Label(string? attr, IReadOnlyDictionary<string, string> labels)
    {
        if (attr is null)
        {
            return AdminTexts.Get("FormLabel");
        }

        var dot = attr.IndexOf('.', StringComparison.Ordinal);
        var (field, rest) = dot < 0 ? (attr, null) : (attr[..dot], attr[(dot + 1)..]);
        var label = labels.TryGetValue(field, out var text) ? text : field;
        return rest is null ? label : $"{label} ({rest})";
    }
}
