namespace Apptork.Root.Platform.Configuration;

/// <summary><c>Role</c>: what this process does. Every role answers the health probes.</summary>
public enum ProcessRole
{
    /// <summary>Serves the HTTP API and enqueues background work.</summary>
    Api,

    /// <summary>Runs background jobs only.</summary>
    Worker,

    /// <summary>Both, the embedded default.</summary>
    All,
}

public static class ProcessRoles
{
    public static ProcessRole From(IConfiguration configuration)
    {
        var raw = configuration["Role"];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return ProcessRole.All;
        }

        return SettingNames.TryParse<ProcessRole>(raw, out var role)
            ? role
            : throw new StartupConfigurationException("Role", $"is '{raw}'; use api, worker or all.");
    }

    public static bool ServesApi(this ProcessRole role) => role is ProcessRole.Api or ProcessRole.All;

    public static bool RunsJobs(this ProcessRole role) => role is ProcessRole.Worker or ProcessRole.All;
}
