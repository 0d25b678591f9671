using System.Globalization;
using System.Text.Json;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using FluentValidation;
using FluentValidation.Results;

namespace Apptork.Root.Platform.Validation;

/// <summary>
/// Validates a request body with its FluentValidation validator before the handler runs, and reports every
/// failing field at once as <c>validation_error</c>, with DRF's codes and snake_case paths (<c>items.0.name</c>).
/// </summary>
public sealed class ValidationFilter<TRequest>(IValidator<TRequest> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.Arguments.OfType<TRequest>().FirstOrDefault();
        if (request is null)
        {
            throw ErrorCatalog.ParseError.ToException();
        }

        var result = await validator.ValidateAsync(request, context.HttpContext.RequestAborted);
        if (!result.IsValid)
        {
            throw new ApiException(result.Errors.Select(ToApiError).ToArray());
        }

        return await next(context);
    }

    internal static ApiError ToApiError(ValidationFailure failure)
    {
        // An unknown field is named as the client wrote it: converted, "displayName" would read as the known "display_name".
        var attr = failure.ErrorCode == ErrorCatalog.UnknownField.Code ? failure.PropertyName : ToAttr(failure.PropertyName);
        var placeholders = failure.FormattedMessagePlaceholderValues ?? new Dictionary<string, object>();
        long Placeholder(string name) => Convert.ToInt64(placeholders[name], CultureInfo.InvariantCulture);
        ApiError MaxLength() => ErrorCatalog.MaxLength.At(attr, new Dictionary<string, object?> { ["max_length"] = Placeholder("MaxLength") });
        ApiError MinLength() => ErrorCatalog.MinLength.At(attr, new Dictionary<string, object?> { ["min_length"] = Placeholder("MinLength") });

        return failure.ErrorCode switch
        {
            "NotNullValidator" => ErrorCatalog.Required.At(attr),
            "NotEmptyValidator" => (failure.AttemptedValue is null ? ErrorCatalog.Required : ErrorCatalog.Blank).At(attr),
            "MaximumLengthValidator" => MaxLength(),
            "MinimumLengthValidator" => MinLength(),
            "LengthValidator" => Placeholder("TotalLength") > Placeholder("MaxLength") ? MaxLength() : MinLength(),
            "LessThanOrEqualValidator" => ErrorCatalog.MaxValue.At(attr, new Dictionary<string, object?> { ["max_value"] = placeholders["ComparisonValue"] }),
            "GreaterThanOrEqualValidator" => ErrorCatalog.MinValue.At(attr, new Dictionary<string, object?> { ["min_value"] = placeholders["ComparisonValue"] }),
            "EnumValidator" or "StringEnumValidator" => ErrorCatalog.InvalidChoice.At(attr),
            // Rules may name a catalog code directly with WithErrorCode("disposable_email").
            var code => (ErrorCatalog.All.FirstOrDefault(definition => definition.Code == code) ?? ErrorCatalog.Invalid).At(attr),
        };
    }

    /// <summary><c>Items[0].DisplayName</c> → <c>items.0.display_name</c>.</summary>
    internal static string? ToAttr(string? propertyName)
    {
        if (string.IsNullOrEmpty(propertyName))
        {
            return null;
        }

        var segments = propertyName.Replace("[", ".", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal)
            .Split('.', StringSplitOptions.RemoveEmptyEntries);
        // A segment that is no C# name is a key the client wrote (a language tag, pt-BR): named as written.
        return string.Join('.', segments.Select(segment => segment.All(character => char.IsLetterOrDigit(character) || character == '_')
            ? JsonNamingPolicy.SnakeCaseLower.ConvertName(segment)
            : segment));
    }
}

public static class ValidationFilterExtensions
{
    /// <summary>Validates the <typeparamref name="TRequest"/> body with its registered validator.</summary>
    public static RouteHandlerBuilder Validate<TRequest>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ValidationFilter<TRequest>>()
            .ProducesValidationErrors();
}
