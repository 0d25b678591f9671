using System.Security.Claims;
using Apptork.Root.Platform.Callers;
using Microsoft.FeatureManagement.FeatureFilters;
using Semver;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// Who asks, as the flags' rules see it: FeatureManagement's targeting context (the id a rollout hashes) plus what the
/// client says about itself.
/// </summary>
/// <remarks>
/// <see cref="TargetingContext.UserId"/> is the user's id; for an anonymous caller its hashed <c>X-Device-Id</c>, so one
/// device stays on one side of a rollout; for an anonymous caller without one, <see cref="Nobody"/> (all such callers on
/// the same side). <see cref="TargetingContext.Groups"/> holds the role.
/// </remarks>
public sealed class FlagCaller : TargetingContext
{
    public const string Nobody = "anonymous";

    public FlagCaller(string userId, string? role, string? platform, SemVersion? appVersion)
    {
        UserId = userId;
        Groups = role is null ? [] : [role];
        Role = role;
        Platform = platform;
        AppVersion = appVersion;
    }

    /// <summary>The token's role; null for an anonymous caller.</summary>
    public string? Role { get; }

    /// <summary><c>ios</c>, <c>android</c> or <c>web</c>; null when unknown.</summary>
    public string? Platform { get; }

    /// <summary>Null when missing or malformed: unknown, never an error.</summary>
    public SemVersion? AppVersion { get; }

    /// <summary>Everything a flag's rules read of the caller, as one text: two callers with one key get the same flags.</summary>
    public string Key => $"{UserId}|{Role}|{Platform}|{AppVersion}";

    public static FlagCaller From(HttpContext context)
    {
        var client = ClientInfo.From(context);
        var user = context.User;
        var signedIn = user.Identity?.IsAuthenticated == true;
        var id = signedIn ? user.UserId().ToString() : client.DeviceIdHash is { } device ? $"device:{device}" : Nobody;
        return new FlagCaller(id, signedIn ? user.FindFirstValue(CurrentUser.RoleClaim) : null, client.Platform, AppVersions.Parse(client.AppVersion));
    }
}
