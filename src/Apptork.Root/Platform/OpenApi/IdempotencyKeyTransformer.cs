using Apptork.Root.Platform.Idempotency;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Declares the <c>Idempotency-Key</c> header once, as a reusable parameter, and requires it on every operation
/// marked <c>.Idempotent()</c>.
/// </summary>
public sealed class IdempotencyKeyTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ReusableParameters.Declare(document, new OpenApiParameter
        {
            Name = IdempotencyMiddleware.Header,
            In = ParameterLocation.Header,
            Required = true,
            Description = "A key you choose per intended operation (a UUID): a retry with the same key and body replays the first answer instead of acting twice.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotencyRecord.MaxKeyLength },
        });
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotentMetadata>().Any())
        {
            ReusableParameters.Reference(operation, IdempotencyMiddleware.Header, context.Document);
        }

        return Task.CompletedTask;
    }
}
