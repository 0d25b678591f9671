using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Declares the bearer access token once, and on every operation whether it needs one: generated clients then
/// attach the token exactly where the server checks it, and say so explicitly (<c>security: []</c>) elsewhere.
/// </summary>
public sealed class BearerSecurityTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string SchemeName = "bearerAuth";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The access token from POST /api/v1/auth/otp/verify (or a social sign-in); renew it with POST /api/v1/auth/token/refresh.",
        };
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var bearer = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [] };
        if (metadata.OfType<OptionalToken>().Any())
        {
            // OpenAPI's "either": no requirement at all, or the bearer token.
            operation.Security = [new OpenApiSecurityRequirement(), bearer];
            return Task.CompletedTask;
        }

        var needsToken = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
        operation.Security = needsToken ? [bearer] : [];
        return Task.CompletedTask;
    }
}

/// <summary>Marks an operation that answers anonymous callers and reads a bearer token when one is sent.</summary>
public sealed class OptionalToken
{
    public static readonly OptionalToken Instance = new();

    private OptionalToken()
    {
    }
}

public static class OptionalTokenExtensions
{
    public static RouteHandlerBuilder AcceptsOptionalToken(this RouteHandlerBuilder builder) => builder.WithMetadata(OptionalToken.Instance);
}
