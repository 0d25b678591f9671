using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using FluentValidation.Results;

namespace Apptork.Root.Platform.Localization;

/// <summary>The one validation of a translated field in a request body: <c>{"en": "...", "pt-BR": "..."}</c>.</summary>
public static class TranslatedTextRules
{
    /// <summary>
    /// The default language is required (every fallback chain ends there), every language must be one a text may be
    /// written in (<c>invalid_choice</c> at <c>title.xx</c>), and each text is displayable, not blank and at most
    /// <paramref name="maxLength"/> characters. A missing field is left to the caller (required on create, optional on update).
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, IReadOnlyDictionary<string, string?>?> Translated<T>(
        this IRuleBuilder<T, IReadOnlyDictionary<string, string?>?> rule, int maxLength) =>
        rule.Custom((texts, context) =>
        {
            if (texts is null)
            {
                return;
            }

            var field = context.PropertyPath;
            if (!texts.Keys.Any(language => string.Equals(language, TranslatedText.DefaultLanguage, StringComparison.OrdinalIgnoreCase)))
            {
                context.AddFailure(Failure($"{field}.{TranslatedText.DefaultLanguage}", ErrorCatalog.Required.Code));
            }

            foreach (var (language, text) in texts)
            {
                var path = $"{field}.{language}";
                if (TranslatedText.CanonicalLanguage(language) is null)
                {
                    context.AddFailure(Failure(path, ErrorCatalog.InvalidChoice.Code));
                }
                else if (text is null)
                {
                    context.AddFailure(Failure(path, ErrorCatalog.Required.Code));
                }
                else if (string.IsNullOrWhiteSpace(text))
                {
                    context.AddFailure(Failure(path, ErrorCatalog.Blank.Code));
                }
                else if (text.Length > maxLength)
                {
                    context.AddFailure(new ValidationFailure(path, null)
                    {
                        ErrorCode = "MaximumLengthValidator",
                        FormattedMessagePlaceholderValues = new Dictionary<string, object> { ["MaxLength"] = maxLength },
                    });
                }
                else if (!SafeTextRules.IsDisplayable(text.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal)))
                {
                    context.AddFailure(Failure(path, ErrorCatalog.ControlCharacters.Code));
                }
            }
        });

    private static ValidationFailure Failure(string path, string code) => new(path, null) { ErrorCode = code };
}
