using Microsoft.Extensions.Logging.Console;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// Defaults for the built-in JSON console formatter (<c>Logging__Console__FormatterName=json</c>), one object per line
/// for a log shipper: the scopes are included, since they carry the trace and span ids (the host's activity tracking)
/// and the request's correlation id, and times are UTC in ISO 8601. Each stays overridable under
/// <c>Logging__Console__FormatterOptions__*</c>.
/// </summary>
public static class JsonConsoleLogs
{
    private const string Options = "Logging:Console:FormatterOptions";

    public static IServiceCollection AddJsonConsoleLogDefaults(this IServiceCollection services, IConfiguration configuration) =>
        // Runs after the framework's binding of those settings, so an explicit one is read again here rather than overridden.
        services.Configure<JsonConsoleFormatterOptions>(json =>
        {
            json.IncludeScopes = configuration.GetValue($"{Options}:IncludeScopes", true);
            json.UseUtcTimestamp = configuration.GetValue($"{Options}:UseUtcTimestamp", true);
            json.TimestampFormat ??= "O";
        });
}
