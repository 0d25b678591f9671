using Apptork.Root.Platform.Callers;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;
using Semver;

namespace Apptork.Root.Features.FeatureFlags;

// The rules of a flag other than its rollout, one FeatureManagement filter each; the rollout is the library's own
// targeting filter (Microsoft.Targeting, its default rollout percentage). Each filter binds its parameters once
// (IFilterParametersBinder), so the library keeps the parsed rule with the definition.

/// <summary>Only callers whose role is listed (an anonymous caller has none).</summary>
[FilterAlias(Alias)]
public sealed class RolesFilter : IContextualFeatureFilter<FlagCaller>, IFilterParametersBinder
{
    public const string Alias = "Apptork.Roles";

    public object BindParameters(IConfiguration parameters) => ListedWords(parameters);

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext featureFilterContext, FlagCaller appContext) =>
        Task.FromResult(appContext.Role is not null && ((HashSet<string>)featureFilterContext.Settings).Contains(appContext.Role));

    internal static HashSet<string> ListedWords(IConfiguration parameters) =>
        parameters.GetSection("Values").Get<string[]>()?.ToHashSet(StringComparer.Ordinal) ?? [];
}

/// <summary>Only callers whose <c>X-Platform</c> is listed (an unknown platform is not).</summary>
[FilterAlias(Alias)]
public sealed class PlatformsFilter : IContextualFeatureFilter<FlagCaller>, IFilterParametersBinder
{
    public const string Alias = "Apptork.Platforms";

    public object BindParameters(IConfiguration parameters) => RolesFilter.ListedWords(parameters);

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext featureFilterContext, FlagCaller appContext) =>
        Task.FromResult(appContext.Platform is not null && ((HashSet<string>)featureFilterContext.Settings).Contains(appContext.Platform));
}

/// <summary>
/// Only callers whose <c>X-App-Version</c> is within the range, both ends inclusive; an unknown version is outside any
/// range (a flag for new versions must not reach a client that cannot say which it is).
/// </summary>
[FilterAlias(Alias)]
public sealed class AppVersionsFilter : IContextualFeatureFilter<FlagCaller>, IFilterParametersBinder
{
    public const string Alias = "Apptork.AppVersions";

    public object BindParameters(IConfiguration parameters) =>
        (AppVersions.Parse(parameters["Min"]), AppVersions.Parse(parameters["Max"]));

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext featureFilterContext, FlagCaller appContext)
    {
        var (min, max) = ((SemVersion?, SemVersion?))featureFilterContext.Settings;
        return Task.FromResult(AppVersions.InRange(appContext.AppVersion, min, max));
    }
}

/// <summary>
/// On from the start (inclusive) to the end (exclusive), in UTC. Written here rather than the library's time-window
/// filter because that one reads the system clock: this one reads the application's <see cref="TimeProvider"/>, which
/// tests move.
/// </summary>
[FilterAlias(Alias)]
public sealed class ScheduleFilter(TimeProvider time) : IFeatureFilter, IFilterParametersBinder
{
    public const string Alias = "Apptork.Schedule";

    public object BindParameters(IConfiguration parameters) =>
        (parameters.GetValue<DateTimeOffset?>("Start"), parameters.GetValue<DateTimeOffset?>("End"));

    public Task<bool> EvaluateAsync(FeatureFilterEvaluationContext context)
    {
        var (start, end) = ((DateTimeOffset?, DateTimeOffset?))context.Settings;
        var now = time.GetUtcNow();
        return Task.FromResult((start is null || now >= start) && (end is null || now < end));
    }
}
