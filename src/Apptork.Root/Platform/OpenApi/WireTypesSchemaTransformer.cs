using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Gives schemas the JSON types the server actually writes, where the framework cannot see them, so generated clients
/// type them as they arrive:
/// times and enums go through the converters of <see cref="Json.JsonSetup"/>, which leaves them untyped (<c>unknown</c>);
/// numbers are documented as "integer or string" because the web defaults also read quoted numbers (<c>number | string</c>);
/// a computed property (no setter) is documented as optional and, when nullable, as never null, though the server always
/// writes it, <c>null</c> included.
/// </summary>
public sealed class WireTypesSchemaTransformer : IOpenApiSchemaTransformer
{
    // The framework's own mark for "a property whose schema becomes a component, and may be null": it then writes
    // oneOf [null, $ref]. The framework sets it only for properties with a nullable setter.
    private const string NullablePropertyMark = "x-is-nullable-property";
    private const string ComponentIdMark = "x-schema-id";

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var declared = context.JsonTypeInfo.Type;
        var nullableOf = Nullable.GetUnderlyingType(declared);
        var type = nullableOf ?? declared;
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime))
        {
            schema.Type = nullableOf is null ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
            schema.Format = "date-time";
        }
        else if (type.IsEnum && nullableOf is null)
        {
            schema.Type = JsonSchemaType.String;
        }
        else if (IsNumber(type) && schema.Type is { } types)
        {
            // Quoted numbers are a leniency of reading: the server always writes numbers, and clients should send them.
            // A pattern constrains strings only, so on a number it is noise to validators and generators.
            schema.Type = types & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        if (context.JsonPropertyInfo is null && context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object && schema.Properties is not null)
        {
            foreach (var computed in context.JsonTypeInfo.Properties.Where(property => property is { Get: not null, Set: null, ShouldSerialize: null }))
            {
                schema.Required ??= new HashSet<string>();
                schema.Required.Add(computed.Name);
            }
        }

        if (context.JsonPropertyInfo is { IsGetNullable: true, Set: null } computedProperty && !computedProperty.PropertyType.IsValueType
            && schema.Metadata?.ContainsKey(ComponentIdMark) == true)
        {
            schema.Metadata[NullablePropertyMark] = true;
        }

        return Task.CompletedTask;
    }

    private static bool IsNumber(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)
        || type == typeof(uint) || type == typeof(ulong) || type == typeof(decimal) || type == typeof(double) || type == typeof(float);
}
