using Apptork.Root.Admin.Catalog;
using Apptork.Root.Admin.Security;
using Apptork.Root.Features.FeatureFlags;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// Feature flags: every staff member reads them (support answering "why don't I see X"); superusers create, edit,
/// toggle and delete them, through the API's own path, so every process applies the change within a second.
/// </summary>
[ChangesNeedPolicy(AdminPolicies.Superuser)]
public sealed class FlagsModel(FlagEditor editor) : CatalogPageModel
{
    /// <summary>The API's field name of each form field that binds a number, a date or a switch.</summary>
    private static readonly Dictionary<string, string> FormNames = new()
    {
        ["RolloutPercentage"] = "rollout_percentage", ["StartsAt"] = "starts_at", ["EndsAt"] = "ends_at", ["Enabled"] = "enabled",
    };

    public static IReadOnlyList<string> RoleChoices { get; } = ["free", "premium", "staff"];

    public static IReadOnlyList<string> PlatformChoices { get; } = ["ios", "android", "web"];

    public IReadOnlyList<FeatureFlagView> Flags { get; private set; } = [];

    /// <summary>The flag the form edits; null for a new one.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Edit { get; set; }

    [BindProperty]
    public string? Key { get; set; }

    /// <summary>The flag's version when the form was shown (see <see cref="FlagEditor.VersionOf"/>).</summary>
    [BindProperty]
    public long ExpectedVersion { get; set; }

    [BindProperty]
    public bool Enabled { get; set; }

    /// <summary>By language; read from the form by <see cref="CatalogPageModel.PostedTexts"/>.</summary>
    public Dictionary<string, string?> Description { get; set; } = [];

    [BindProperty]
    public int? RolloutPercentage { get; set; } = 100;

    [BindProperty]
    public List<string> Roles { get; set; } = [];

    [BindProperty]
    public List<string> Platforms { get; set; } = [];

    [BindProperty]
    public string? MinAppVersion { get; set; }

    [BindProperty]
    public string? MaxAppVersion { get; set; }

    [BindProperty]
    public DateTime? StartsAt { get; set; }

    [BindProperty]
    public DateTime? EndsAt { get; set; }

    protected override IReadOnlyDictionary<string, string> FieldLabels => new Dictionary<string, string>
    {
        ["key"] = AdminTexts.Get("FlagKeyLabel"),
        ["enabled"] = AdminTexts.Get("FlagEnabledLabel"),
        ["description"] = AdminTexts.Get("FlagDescriptionLabel"),
        ["rollout_percentage"] = AdminTexts.Get("FlagRolloutLabel"),
        ["roles"] = AdminTexts.Get("AudienceRolesLabel"),
        ["platforms"] = AdminTexts.Get("AudiencePlatformsLabel"),
        ["min_app_version"] = AdminTexts.Get("MinAppVersionLabel"),
        ["max_app_version"] = AdminTexts.Get("MaxAppVersionLabel"),
        ["starts_at"] = AdminTexts.Get("StartsAtLabel"),
        ["ends_at"] = AdminTexts.Get("EndsAtLabel"),
    };

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        if (Flags.FirstOrDefault(flag => flag.Key == Edit) is { } flag)
        {
            Fill(flag);
        }
        else
        {
            Edit = null;
        }
    }

    public async Task OnPostSaveAsync(CancellationToken cancellationToken)
    {
        Description = PostedTexts(nameof(Description));
        if (!RefuseUnreadableFields(FormNames))
        {
            var description = Written(Description);
            var startsAt = Utc(StartsAt);
            var endsAt = Utc(EndsAt);
            var result = Edit is null
                ? await editor.CreateAsync(
                    new FeatureFlagBody(Key?.Trim(), Enabled, description, RolloutPercentage, Roles, Platforms, MinAppVersion, MaxAppVersion, startsAt, endsAt),
                    Actor, cancellationToken)
                : await editor.UpdateAsync(
                    Edit,
                    new FeatureFlagUpdateBody(Enabled, description, RolloutPercentage, Roles, Platforms, MinAppVersion, MaxAppVersion, startsAt, endsAt),
                    ExpectedVersion, Actor, cancellationToken);
            if (Show(result, Edit is null ? "FlagCreatedNotice" : "FlagSavedNotice"))
            {
                Edit = Edit ?? Key?.Trim();
            }
        }

        await LoadAsync(cancellationToken);
        // A saved form shows the flag as stored now (and its new version); a refused one keeps what the operator typed.
        if (Error is null && Flags.FirstOrDefault(flag => flag.Key == Edit) is { } saved)
        {
            Fill(saved);
        }
    }

    public async Task OnPostToggleAsync(CancellationToken cancellationToken)
    {
        Show(await editor.ToggleAsync(Key ?? string.Empty, ExpectedVersion, Actor, cancellationToken), "FlagSavedNotice");
        // The page's form is a new flag's again, empty.
        (Edit, Key) = (null, null);
        ModelState.Clear();
        await LoadAsync(cancellationToken);
    }

    public async Task OnPostDeleteAsync(CancellationToken cancellationToken)
    {
        Show(await editor.DeleteAsync(Edit ?? string.Empty, ExpectedVersion, Actor, cancellationToken), "FlagDeletedNotice");
        (Edit, Key) = (null, null);
        ModelState.Clear();
        await LoadAsync(cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Flags = await editor.ListAsync(cancellationToken);

    private void Fill(FeatureFlagView flag)
    {
        ModelState.Clear();
        Key = flag.Key;
        ExpectedVersion = FlagEditor.VersionOf(flag.UpdatedAt);
        Enabled = flag.Enabled;
        Description = flag.Description.ToDictionary(pair => pair.Key, pair => (string?)pair.Value);
        RolloutPercentage = flag.RolloutPercentage;
        Roles = [.. flag.Roles];
        Platforms = [.. flag.Platforms];
        MinAppVersion = flag.MinAppVersion;
        MaxAppVersion = flag.MaxAppVersion;
        StartsAt = flag.StartsAt?.UtcDateTime;
        EndsAt = flag.EndsAt?.UtcDateTime;
    }
}
