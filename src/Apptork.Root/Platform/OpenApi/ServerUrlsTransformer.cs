using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Drops the trailing slash the framework puts on the server URL: paths start with a slash, and clients that
/// join the two would otherwise call <c>//api/v1/...</c>.
/// </summary>
public sealed class ServerUrlsTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }

        return Task.CompletedTask;
    }
}
