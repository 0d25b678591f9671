using System.Text.Json;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>The API's JSON conventions as a client sees them: snake_case names.</summary>
public static class TestJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
