using System.Text.Json.Nodes;
using Apptork.Root.Platform.Localization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// The headers an app sends with every request (read by <see cref="Callers.ClientInfo"/> and the localization
/// middleware), declared once as reusable parameters and referenced by every operation an app calls, so generated clients
/// expose them as one set of defaults.
/// </summary>
public sealed class ClientHeadersTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, OpenApiParameter> Headers = new[]
    {
        Header("X-Device-Id", "A stable id of this install, at most 200 characters. Stored only hashed: one session per device, and device-level fraud checks.",
            new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 }),
        Header("X-Platform", "Where the app runs; any other value is ignored.",
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = ["ios", "android", "web"] }),
        Header("X-App-Version", "The app's version as it names it; kept to 32 characters.",
            new OpenApiSchema { Type = JsonSchemaType.String }),
        Header("Accept-Language", "The language of error details and catalog names. Any Accept-Language list is read; pt-PT and pt are served in pt-BR; other languages get en.",
            new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = LocalizationSetup.SupportedCultures.Select(culture => (JsonNode)culture.Name).ToList(),
            }),
    }.ToDictionary(header => header.Name!);

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var header in Headers.Values)
        {
            ReusableParameters.Declare(document, header);
        }

        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        // A provider's servers call webhooks and send none of an app's headers.
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ITagsMetadata>().Any(tags => tags.Tags.Contains(TagsTransformer.Webhooks)))
        {
            return Task.CompletedTask;
        }

        foreach (var name in Headers.Keys)
        {
            ReusableParameters.Reference(operation, name, context.Document);
        }

        return Task.CompletedTask;
    }

    private static OpenApiParameter Header(string name, string description, OpenApiSchema schema) =>
        new() { Name = name, In = ParameterLocation.Header, Required = false, Description = description, Schema = schema };
}
