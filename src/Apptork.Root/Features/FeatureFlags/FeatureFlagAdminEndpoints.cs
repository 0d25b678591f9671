using System.Text.RegularExpressions;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// The operators' management of flags, under the staff-only <c>/admin</c> group. Every change records who and when, and
/// is announced to every process, which then reads the flags again.
/// </summary>
public static class FeatureFlagAdminEndpoints
{
    public static RouteGroupBuilder MapFeatureFlagAdminEndpoints(this RouteGroupBuilder flags)
    {
        flags.WithTags(FeatureFlagEndpoints.Tag);
        flags.MapGet(string.Empty, ListAsync)
            .WithName("admin_feature_flags_list").WithSummary("List feature flags")
            .WithDescription("Every flag with its rules, its description in every language, and who changed it last. Staff only.");
        flags.MapGet("/{key}", GetAsync)
            .WithName("admin_feature_flags_get").WithSummary("Get a feature flag")
            .WithDescription("One flag with its rules. Staff only.");
        flags.MapPost(string.Empty, CreateAsync)
            .Validate<FeatureFlagBody>()
            .ProducesErrors(ErrorCatalog.Conflict)
            .WithName("admin_feature_flags_create").WithSummary("Create a feature flag")
            .WithDescription("Creates a flag; a key that exists already is 409 `conflict` at `key`. In effect on every process within a second. Staff only.");
        flags.MapPut("/{key}", UpdateAsync)
            .Validate<FeatureFlagUpdateBody>()
            .WithName("admin_feature_flags_update").WithSummary("Replace a feature flag's rules")
            .WithDescription("Replaces the flag's switch and rules (a rule left out is no rule); the description is kept when left out. In effect on every process within a second. Staff only.");
        flags.MapDelete("/{key}", DeleteAsync)
            .WithName("admin_feature_flags_delete").WithSummary("Delete a feature flag")
            .WithDescription("Deletes a flag: a built-in gate (ai_generation, checkout) is on again for everyone. Staff only.");
        return flags;
    }

    private static async Task<Ok<List<FeatureFlagView>>> ListAsync(RootDbContext db, Translations translations, CancellationToken cancellationToken)
    {
        var flags = await db.FeatureFlags.AsNoTracking().OrderBy(flag => flag.Key).ToListAsync(cancellationToken);
        var texts = await translations.ReadAsync(FeatureFlagTexts.Owner, flags.Select(flag => flag.Key).ToList(), cancellationToken);
        return TypedResults.Ok(flags.Select(flag => FeatureFlagView.Of(flag, texts)).ToList());
    }

    private static async Task<Ok<FeatureFlagView>> GetAsync(string key, RootDbContext db, Translations translations, CancellationToken cancellationToken)
    {
        var flag = await db.FeatureFlags.AsNoTracking().SingleOrDefaultAsync(flag => flag.Key == key, cancellationToken)
            ?? throw ErrorCatalog.NotFound.ToException();
        return TypedResults.Ok(FeatureFlagView.Of(flag, await translations.ReadAsync(FeatureFlagTexts.Owner, [key], cancellationToken)));
    }

    private static async Task<Created<FeatureFlagView>> CreateAsync(
        FeatureFlagBody body, HttpContext context, FeatureFlagChanges changes, Translations translations, CancellationToken cancellationToken)
    {
        var flag = await changes.CreateAsync(body, context.User.UserId(), beforeSave: null, cancellationToken);
        return TypedResults.Created($"/api/v1/admin/feature-flags/{flag.Key}",
            FeatureFlagView.Of(flag, await translations.ReadAsync(FeatureFlagTexts.Owner, [flag.Key], cancellationToken)));
    }

    private static async Task<Ok<FeatureFlagView>> UpdateAsync(
        string key, FeatureFlagUpdateBody body, HttpContext context, FeatureFlagChanges changes, Translations translations, CancellationToken cancellationToken)
    {
        var flag = await changes.UpdateAsync(key, body, context.User.UserId(), beforeSave: null, cancellationToken);
        return TypedResults.Ok(FeatureFlagView.Of(flag, await translations.ReadAsync(FeatureFlagTexts.Owner, [key], cancellationToken)));
    }

    private static async Task<NoContent> DeleteAsync(string key, FeatureFlagChanges changes, CancellationToken cancellationToken)
    {
        await changes.DeleteAsync(key, beforeSave: null, cancellationToken);
        return TypedResults.NoContent();
    }
}

/// <summary>A flag's switch and rules, as an operator writes them.</summary>
public interface IFeatureFlagRules
{
    bool? Enabled { get; }

    IReadOnlyDictionary<string, string?>? Description { get; }

    /// <summary>0–100; 100 when left out.</summary>
    int? RolloutPercentage { get; }

    /// <summary>Any of <c>free</c>, <c>premium</c>, <c>staff</c>; every caller when left out or empty.</summary>
    IReadOnlyList<string>? Roles { get; }

    /// <summary>Any of <c>ios</c>, <c>android</c>, <c>web</c>; every caller when left out or empty.</summary>
    IReadOnlyList<string>? Platforms { get; }

    string? MinAppVersion { get; }

    string? MaxAppVersion { get; }

    DateTimeOffset? StartsAt { get; }

    DateTimeOffset? EndsAt { get; }
}

/// <param name="Key">snake_case, unique: how apps and endpoints name the flag.</param>
/// <param name="Enabled">The kill switch: false turns the flag off for everyone, whatever the other rules say.</param>
/// <param name="Description">By language, <c>en</c> required: <c>{"en": "...", "fr": "..."}</c>.</param>
/// <param name="RolloutPercentage">The share of users (or devices, signed out) that get it, 0–100 (100 when left out); the same ones as it grows.</param>
/// <param name="MinAppVersion">The lowest <c>X-App-Version</c> that gets it, inclusive; an app that sends none does not.</param>
/// <param name="MaxAppVersion">The highest <c>X-App-Version</c> that gets it, inclusive.</param>
/// <param name="StartsAt">On from this instant (UTC).</param>
/// <param name="EndsAt">Off from this instant (UTC); after <paramref name="StartsAt"/>.</param>
public sealed record FeatureFlagBody(
    string? Key, bool? Enabled, IReadOnlyDictionary<string, string?>? Description, int? RolloutPercentage = null, IReadOnlyList<string>? Roles = null,
    IReadOnlyList<string>? Platforms = null, string? MinAppVersion = null, string? MaxAppVersion = null, DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null) : IFeatureFlagRules;

/// <summary>The same as on creation, without the key; the description is kept when left out.</summary>
public sealed record FeatureFlagUpdateBody(
    bool? Enabled, IReadOnlyDictionary<string, string?>? Description = null, int? RolloutPercentage = null, IReadOnlyList<string>? Roles = null,
    IReadOnlyList<string>? Platforms = null, string? MinAppVersion = null, string? MaxAppVersion = null, DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null) : IFeatureFlagRules;

internal static class FeatureFlagRulesMapping
{
    public static void ApplyTo(this IFeatureFlagRules rules, FeatureFlag flag, Guid staffUserId, DateTimeOffset now)
    {
        flag.Enabled = rules.Enabled ?? false;
        flag.RolloutPercentage = rules.RolloutPercentage ?? 100;
        flag.Roles = rules.Roles?.Distinct().Order(StringComparer.Ordinal).ToList() ?? [];
        flag.Platforms = rules.Platforms?.Distinct().Order(StringComparer.Ordinal).ToList() ?? [];
        flag.MinAppVersion = string.IsNullOrWhiteSpace(rules.MinAppVersion) ? null : rules.MinAppVersion.Trim();
        flag.MaxAppVersion = string.IsNullOrWhiteSpace(rules.MaxAppVersion) ? null : rules.MaxAppVersion.Trim();
        flag.StartsAt = rules.StartsAt;
        flag.EndsAt = rules.EndsAt;
        flag.UpdatedBy = staffUserId;
        flag.UpdatedAt = now;
    }
}

/// <summary>The rules' validation, shared by creation and replacement.</summary>
public abstract partial class FeatureFlagRulesValidator<T> : AbstractValidator<T>
    where T : IFeatureFlagRules
{
    private static readonly HashSet<string> KnownRoles = [UserRoles.Free, UserRoles.Premium, UserRoles.Staff];
    private static readonly HashSet<string> KnownPlatforms = ["ios", "android", "web"];

    protected FeatureFlagRulesValidator()
    {
        RuleFor(body => body.Enabled).NotNull();
        RuleFor(body => body.Description).Translated(FeatureFlagTexts.MaxDescriptionLength);
        RuleFor(body => body.RolloutPercentage).GreaterThanOrEqualTo(0).LessThanOrEqualTo(100);
        RuleForEach(body => body.Roles).Must(KnownRoles.Contains).WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleForEach(body => body.Platforms).Must(KnownPlatforms.Contains).WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleFor(body => body.MinAppVersion).AppVersion();
        RuleFor(body => body.MaxAppVersion).AppVersion().NotBelow(body => body.MinAppVersion);
        RuleFor(body => body.EndsAt)
            .Must((body, end) => body.StartsAt is null || end is null || end > body.StartsAt).WithErrorCode(ErrorCatalog.Invalid.Code);
    }
}

public sealed partial class FeatureFlagBodyValidator : FeatureFlagRulesValidator<FeatureFlagBody>
{
    public FeatureFlagBodyValidator()
    {
        RuleFor(body => body.Key).NotEmpty().MaximumLength(FeatureFlag.MaxKeyLength)
            .Matches(SnakeCase()).WithErrorCode(ErrorCatalog.Invalid.Code);
        RuleFor(body => body.Description).NotNull();
    }

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();
}

public sealed class FeatureFlagUpdateBodyValidator : FeatureFlagRulesValidator<FeatureFlagUpdateBody>;

/// <param name="Description">By language, as written.</param>
/// <param name="UpdatedBy">The staff user who made the last change.</param>
public sealed record FeatureFlagView(
    string Key, bool Enabled, IReadOnlyDictionary<string, string> Description, int RolloutPercentage, IReadOnlyList<string> Roles,
    IReadOnlyList<string> Platforms, string? MinAppVersion, string? MaxAppVersion, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt,
    Guid? UpdatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static FeatureFlagView Of(FeatureFlag flag, TranslatedFields texts) => new(
        flag.Key, flag.Enabled, texts.Get(flag.Key, FeatureFlagTexts.Description).ByLanguage, flag.RolloutPercentage, flag.Roles, flag.Platforms,
        flag.MinAppVersion, flag.MaxAppVersion, flag.StartsAt, flag.EndsAt, flag.UpdatedBy, flag.CreatedAt, flag.UpdatedAt);
}
