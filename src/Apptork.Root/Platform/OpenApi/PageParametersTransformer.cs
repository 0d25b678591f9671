using System.Reflection;
using Apptork.Root.Platform.Pagination;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Shows <c>limit</c> and <c>cursor</c> on every list that takes a <see cref="PageRequest"/>: it binds itself from
/// the query string (BindAsync), so the framework cannot see those parameters.
/// </summary>
public sealed class PageParametersTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    private const string Limit = "limit";
    private const string Cursor = "cursor";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ReusableParameters.Declare(document, new OpenApiParameter
        {
            Name = Limit,
            In = ParameterLocation.Query,
            Description = $"How many items per page (default {PageRequest.DefaultLimit}).",
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer,
                Minimum = "1",
                Maximum = PageRequest.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Default = PageRequest.DefaultLimit,
            },
        });
        ReusableParameters.Declare(document, new OpenApiParameter
        {
            Name = Cursor,
            In = ParameterLocation.Query,
            Description = "The next_cursor of the previous page, as it came; leave it out for the first page.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var handler = context.Description.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().FirstOrDefault();
        if (handler?.GetParameters().Any(parameter => parameter.ParameterType == typeof(PageRequest)) == true)
        {
            ReusableParameters.Reference(operation, Limit, context.Document);
            ReusableParameters.Reference(operation, Cursor, context.Document);
        }

        return Task.CompletedTask;
    }
}
