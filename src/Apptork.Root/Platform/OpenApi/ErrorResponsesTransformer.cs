using System.Globalization;
using Apptork.Root.Platform.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Declares, on every operation, the error responses it can produce with the standard payload schema, and
/// lists their codes per status so client developers can branch on them.
/// </summary>
public sealed class ErrorResponsesTransformer : IOpenApiOperationTransformer, IOpenApiDocumentTransformer
{
    private const string SchemaName = "ErrorPayload";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var errors = metadata.OfType<ApiErrorsMetadata>().SelectMany(declared => declared.Errors).ToList();
        if (metadata.OfType<IAuthorizeData>().Any())
        {
            errors.AddRange([ErrorCatalog.NotAuthenticated, ErrorCatalog.AuthenticationFailed, ErrorCatalog.PermissionDenied]);
        }

        if (context.Description.ParameterDescriptions.Any(parameter => parameter.Source.Id == "Path"))
        {
            errors.Add(ErrorCatalog.NotFound);
        }

        errors.Add(ErrorCatalog.ServerError);
        operation.Responses ??= [];
        foreach (var byStatus in errors.Distinct().GroupBy(error => error.Status).OrderBy(group => group.Key))
        {
            var codes = string.Join(", ", byStatus.Select(error => $"`{error.Code}`"));
            operation.Responses[byStatus.Key.ToString(CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = $"Error codes: {codes}.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchemaReference(SchemaName, context.Document) },
                },
            };
        }

        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[SchemaName] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The body of every non-2xx response.",
            Required = new HashSet<string> { "type", "errors" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Enum = [ErrorPayload.ValidationError, ErrorPayload.ClientError, ErrorPayload.ServerError],
                },
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "code", "detail", "attr" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["code"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String,
                                Description = "Stable snake_case code from the error catalog; branch on it.",
                                Enum = ErrorCatalog.All.Select(error => (System.Text.Json.Nodes.JsonNode)error.Code).ToList(),
                            },
                            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Human text in the request's language." },
                            ["attr"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String | JsonSchemaType.Null,
                                Description = "snake_case path of the offending field (items.0.name), or null.",
                            },
                            ["challenge"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Description = "Only with link_required: the email-code challenge to verify at /auth/otp/verify, as /auth/otp/request answers it.",
                                Required = new HashSet<string> { "otp_token", "expires_in", "resend_after" },
                                Properties = new Dictionary<string, IOpenApiSchema>
                                {
                                    ["otp_token"] = new OpenApiSchema { Type = JsonSchemaType.String },
                                    ["expires_in"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "Seconds the code is valid." },
                                    ["resend_after"] = new OpenApiSchema
                                    {
                                        Type = JsonSchemaType.Integer, Format = "int32", Description = "Seconds before another code can be mailed to the address.",
                                    },
                                },
                            },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}
