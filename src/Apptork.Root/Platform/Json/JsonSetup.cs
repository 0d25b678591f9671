using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Apptork.Root.Platform.Json;

public static class JsonSetup
{
    /// <summary>snake_case in and out, enums as snake_case strings, times as ISO-8601 UTC.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = new SnakeCaseExceptLanguageTags();
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.Converters.Add(new UtcDateTimeOffsetConverter());
        options.Converters.Add(new UtcDateTimeConverter());
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
    }

    /// <summary>
    /// Dictionary keys in snake_case like property names, except language tags: a translated text is keyed by its
    /// languages, and <c>pt-BR</c> must stay <c>pt-BR</c>. Nothing else we key a dictionary by has a hyphen.
    /// </summary>
    private sealed class SnakeCaseExceptLanguageTags : JsonNamingPolicy
    {
        public override string ConvertName(string name) => name.Contains('-', StringComparison.Ordinal) ? name : SnakeCaseLower.ConvertName(name);
    }

    /// <summary>Always <c>2026-11-25T14:57:23.123Z</c>, whatever offset the value carried.</summary>
    private sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().ToUniversalTime();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }

    /// <summary>A <see cref="DateTime"/> without a kind is taken as UTC, which is what the database stores.</summary>
    private sealed class UtcDateTimeConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().UtcDateTime;

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
        {
            var utc = value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime();
            writer.WriteStringValue(utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        }
    }
}
