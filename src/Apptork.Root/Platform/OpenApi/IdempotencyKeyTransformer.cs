using Apptork.Root.Platform.Idempotency;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>Documents the required <c>Idempotency-Key</c> header on every operation marked <c>.Idempotent()</c>.</summary>
public sealed class IdempotencyKeyTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotentMetadata>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyMiddleware.Header,
                In = ParameterLocation.Header,
                Required = true,
                Description = "A key you choose per intended operation (a UUID): a retry with the same key and body replays the first answer instead of acting twice.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotencyRecord.MaxKeyLength },
            });
        }

        return Task.CompletedTask;
    }
}
