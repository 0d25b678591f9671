using Apptork.Root.Platform.Errors;
using FluentValidation;
using Semver;

namespace Apptork.Root.Platform.Callers;

/// <summary>
/// The app version a caller sends in <c>X-App-Version</c>, in semantic-version order (<c>1.10.0</c> &gt; <c>1.9.9</c>,
/// a pre-release before its release, build metadata ignored), read by the Semver library, leniently (<c>v2</c>,
/// <c>2.1</c>), and the one version-range rule that flags and messages target by.
/// </summary>
public static class AppVersions
{
    public const int MaxLength = 32;

    /// <summary>Null for a missing or malformed version: the caller's version is then unknown.</summary>
    public static SemVersion? Parse(string? text) =>
        text is { Length: > 0 and <= MaxLength } && SemVersion.TryParse(text.Trim(), SemVersionStyles.Any, out var version) ? version : null;

    /// <summary>
    /// Whether <paramref name="version"/> is between <paramref name="min"/> and <paramref name="max"/>, both included, either
    /// optional. Without bounds every caller is in; with one, a caller whose version is unknown is not.
    /// </summary>
    public static bool InRange(SemVersion? version, SemVersion? min, SemVersion? max) =>
        (min is null && max is null)
        || (version is not null
            && (min is null || SemVersion.ComparePrecedence(version, min) >= 0)
            && (max is null || SemVersion.ComparePrecedence(version, max) <= 0));

    /// <summary>True when both bounds are given and the lower one is above the upper: a range no version is in.</summary>
    public static bool IsEmptyRange(SemVersion? min, SemVersion? max) =>
        min is not null && max is not null && SemVersion.ComparePrecedence(min, max) > 0;
}

/// <summary>The request rules of a version range's two bounds: each a readable version, the upper one not below the lower.</summary>
public static class AppVersionRules
{
    public static IRuleBuilderOptions<T, string?> AppVersion<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(version => version is null || AppVersions.Parse(version) is not null).WithErrorCode(ErrorCatalog.Invalid.Code);

    public static IRuleBuilderOptions<T, string?> NotBelow<T>(this IRuleBuilderOptions<T, string?> rule, Func<T, string?> lowerBound) =>
        rule.Must((body, upper) => !AppVersions.IsEmptyRange(AppVersions.Parse(lowerBound(body)), AppVersions.Parse(upper))).WithErrorCode(ErrorCatalog.Invalid.Code);
}
