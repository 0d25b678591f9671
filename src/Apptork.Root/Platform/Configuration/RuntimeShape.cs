using Apptork.Root.Platform.Persistence;

namespace Apptork.Root.Platform.Configuration;

/// <summary>
/// How this process runs. The shape is embedded (SQLite, in-process, local files, development-only providers allowed) or production (PostgreSQL and
/// the real services), decided by the database setting alone, never by <c>ASPNETCORE_ENVIRONMENT</c>, so a
/// published binary started with no settings runs embedded anywhere, and nothing on PostgreSQL can run a toy provider.
/// </summary>
public sealed record RuntimeShape(DatabaseProvider Database, ProcessRole Role)
{
    public bool IsProduction => Database == DatabaseProvider.Postgres;

    public bool IsEmbedded => !IsProduction;

    public static RuntimeShape From(IConfiguration configuration)
    {
        var role = ProcessRoles.From(configuration);
        var raw = configuration[$"{DatabaseOptions.Section}:{nameof(DatabaseOptions.Provider)}"];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return new RuntimeShape(DatabaseProvider.Sqlite, role);
        }

        return SettingNames.TryParse<DatabaseProvider>(raw, out var provider)
            ? new RuntimeShape(provider, role)
            : throw new StartupConfigurationException("Database__Provider", $"is '{raw}'; use Sqlite (embedded) or Postgres (production).");
    }
}

/// <summary>A setting that prevents the process from starting; the message names it the way an operator sets it.</summary>
public sealed class StartupConfigurationException(string setting, string problem)
    : Exception($"{setting} {problem}")
{
    public string Setting { get; } = setting;
}
