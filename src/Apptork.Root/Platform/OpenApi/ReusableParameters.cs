using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>Parameters declared once under <c>components.parameters</c>, by name, and referenced from operations.</summary>
internal static class ReusableParameters
{
    public static void Declare(OpenApiDocument document, OpenApiParameter parameter)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Parameters ??= new Dictionary<string, IOpenApiParameter>();
        document.Components.Parameters[parameter.Name!] = parameter;
    }

    public static void Reference(OpenApiOperation operation, string name, OpenApiDocument? document)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameterReference(name, document));
    }
}
