using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Catalog;

/// <summary>
/// The flags screen's changes: validated by the API's own validators, applied through <see cref="FeatureFlagChanges"/>
/// (the API's path, which announces them to every process), each with its audit row in the same save. A form shown
/// before the flag last changed (its <see cref="FeatureFlag.UpdatedAt"/>) is refused and changes nothing.
/// </summary>
public sealed class FlagEditor(
    RootDbContext db, Translations translations, FeatureFlagChanges changes, AdminAudit audit,
    IValidator<FeatureFlagBody> createValidator, IValidator<FeatureFlagUpdateBody> updateValidator)
{
    public async Task<List<FeatureFlagView>> ListAsync(CancellationToken cancellationToken)
    {
        var flags = await db.FeatureFlags.AsNoTracking().OrderBy(flag => flag.Key).ToListAsync(cancellationToken);
        var texts = await translations.ReadAsync(FeatureFlagTexts.Owner, flags.Select(flag => flag.Key).ToList(), cancellationToken);
        return flags.Select(flag => FeatureFlagView.Of(flag, texts)).ToList();
    }

    /// <summary>The version a form carries: the instant of the flag's last change, exactly as stored.</summary>
    public static long VersionOf(DateTimeOffset updatedAt) => updatedAt.UtcTicks;

    public async Task<CatalogResult> CreateAsync(FeatureFlagBody body, AuditActor actor, CancellationToken cancellationToken)
    {
        var validation = await createValidator.ValidateAsync(body, cancellationToken);
        if (!validation.IsValid)
        {
            return CatalogResult.Invalid(validation.Errors.Select(ValidationFilter<object>.ToApiError).ToList());
        }

        try
        {
            await changes.CreateAsync(body, StaffIdOf(actor), flag =>
                audit.Record(actor, AdminActions.FlagCreated, flag.Key, before: null, AuditState.Changes(null, State(flag, body.Description)).After),
                cancellationToken);
        }
        catch (ApiException exception)
        {
            return CatalogResult.Invalid(exception.Errors);
        }

        return CatalogResult.Done;
    }

    public async Task<CatalogResult> UpdateAsync(string key, FeatureFlagUpdateBody body, long expectedVersion, AuditActor actor, CancellationToken cancellationToken)
    {
        var validation = await updateValidator.ValidateAsync(body, cancellationToken);
        if (!validation.IsValid)
        {
            return CatalogResult.Invalid(validation.Errors.Select(ValidationFilter<object>.ToApiError).ToList());
        }

        return await ChangeAsync(key, expectedVersion, actor, _ => body, cancellationToken);
    }

    /// <summary>Turns the kill switch the other way, every rule and the description kept.</summary>
    public Task<CatalogResult> ToggleAsync(string key, long expectedVersion, AuditActor actor, CancellationToken cancellationToken) =>
        ChangeAsync(key, expectedVersion, actor, flag => new FeatureFlagUpdateBody(
            !flag.Enabled, Description: null, flag.RolloutPercentage, flag.Roles, flag.Platforms, flag.MinAppVersion, flag.MaxAppVersion, flag.StartsAt, flag.EndsAt),
            cancellationToken);

    public async Task<CatalogResult> DeleteAsync(string key, long expectedVersion, AuditActor actor, CancellationToken cancellationToken)
    {
        var (flag, description, refusal) = await CurrentAsync(key, expectedVersion, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var before = AuditState.Changes(State(flag!, description), null).Before;
        try
        {
            await changes.DeleteAsync(key, () => audit.Record(actor, AdminActions.FlagDeleted, key, before, after: null), cancellationToken);
        }
        catch (ApiException)
        {
            return CatalogResult.Refused("ErrorCatalogStale");
        }

        return CatalogResult.Done;
    }

    private async Task<CatalogResult> ChangeAsync(
        string key, long expectedVersion, AuditActor actor, Func<FeatureFlag, FeatureFlagUpdateBody> change, CancellationToken cancellationToken)
    {
        var (flag, description, refusal) = await CurrentAsync(key, expectedVersion, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var before = State(flag!, description);
        var body = change(flag!);
        await changes.UpdateAsync(key, body, StaffIdOf(actor), changed =>
        {
            var (beforeChanges, afterChanges) = AuditState.Changes(before, State(changed, body.Description ?? description));
            audit.Record(actor, AdminActions.FlagUpdated, key, beforeChanges, afterChanges);
        }, cancellationToken);
        return CatalogResult.Done;
    }

    /// <summary>The flag tracked for the change, with its description; or why the form may not change it.</summary>
    private async Task<(FeatureFlag? Flag, IReadOnlyDictionary<string, string?> Description, CatalogResult? Refusal)> CurrentAsync(
        string key, long expectedVersion, CancellationToken cancellationToken)
    {
        var flag = await db.FeatureFlags.SingleOrDefaultAsync(candidate => candidate.Key == key, cancellationToken);
        if (flag is null || VersionOf(flag.UpdatedAt) != expectedVersion)
        {
            return (null, new Dictionary<string, string?>(), CatalogResult.Refused("ErrorCatalogStale"));
        }

        var texts = await translations.ReadAsync(FeatureFlagTexts.Owner, [key], cancellationToken);
        return (flag, texts.Get(key, FeatureFlagTexts.Description).ByLanguage.ToDictionary(pair => pair.Key, pair => (string?)pair.Value), null);
    }

    private static Guid StaffIdOf(AuditActor actor) => actor.StaffId ?? Guid.Empty;

    private static Dictionary<string, object?> State(FeatureFlag flag, IReadOnlyDictionary<string, string?>? description) => new()
    {
        ["enabled"] = flag.Enabled,
        ["rollout_percentage"] = flag.RolloutPercentage,
        ["roles"] = flag.Roles.ToList(),
        ["platforms"] = flag.Platforms.ToList(),
        ["min_app_version"] = flag.MinAppVersion,
        ["max_app_version"] = flag.MaxAppVersion,
        ["starts_at"] = flag.StartsAt,
        ["ends_at"] = flag.EndsAt,
        ["description"] = AuditState.Texts(description?.ToDictionary(pair => pair.Key, pair => pair.Value ?? string.Empty)),
    };
}
