using Apptork.Root.Platform.Errors;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>Endpoint metadata naming the catalog errors an endpoint can answer with, for the OpenAPI document.</summary>
public sealed record ApiErrorsMetadata(IReadOnlyList<ErrorDefinition> Errors);

public static class ErrorResponseExtensions
{
    /// <summary>Declares the catalog errors this endpoint can return (listed per status in the OpenAPI document).</summary>
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params ErrorDefinition[] errors)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiErrorsMetadata(errors));

    public static TBuilder ProducesValidationErrors<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesErrors(
            ErrorCatalog.ParseError, ErrorCatalog.UnsupportedMediaType, ErrorCatalog.PayloadTooLarge,
            ErrorCatalog.Required, ErrorCatalog.Null, ErrorCatalog.Blank, ErrorCatalog.Invalid,
            ErrorCatalog.MaxLength, ErrorCatalog.MinLength, ErrorCatalog.MaxValue, ErrorCatalog.MinValue,
            ErrorCatalog.InvalidChoice);
}
