using Apptork.Root.Admin.Packs;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>Creates a credit pack (no id in the path) or edits one, for superusers.</summary>
public sealed class PackEditModel(PackEditor packs) : AdminPageModel
{
    /// <summary>The pack edited; null when creating one.</summary>
    [BindProperty(SupportsGet = true, Name = "id")]
    public string? EditedId { get; set; }

    /// <summary>The id of a pack being created (an edited pack's id does not change).</summary>
    [BindProperty]
    public string? NewId { get; set; }

    [BindProperty]
    public long? Credits { get; set; }

    /// <summary>In the currency's minor unit (cents), as Stripe takes it.</summary>
    [BindProperty]
    public long? Price { get; set; }

    [BindProperty]
    public string? Currency { get; set; }

    [BindProperty]
    public bool IsActive { get; set; } = true;

    [BindProperty]
    public int? SortOrder { get; set; }

    [BindProperty]
    public Dictionary<string, string?> Names { get; set; } = [];

    [BindProperty]
    public string? AppStoreProductId { get; set; }

    [BindProperty]
    public string? GooglePlayProductId { get; set; }

    /// <summary>The pack's digest when the form was shown (<see cref="PackState.Version"/>).</summary>
    [BindProperty]
    public string? ExpectedVersion { get; set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    /// <summary>The form's languages: the API's, and any other a name was stored in (kept, not dropped, by a save).</summary>
    public IReadOnlyList<string> Languages { get; private set; } = PackEditor.Languages;

    public bool Creating => EditedId is null;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (Creating)
        {
            return Page();
        }

        var pack = await packs.FindAsync(EditedId!, cancellationToken);
        if (pack is null)
        {
            return NotFound();
        }

        Show(pack);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var form = new PackForm(NewId, Credits, Price, Currency, IsActive, SortOrder, Names, AppStoreProductId, GooglePlayProductId);
        Errors = await packs.SaveAsync(EditedId, form, ExpectedVersion, Actor, cancellationToken);
        if (Errors.Count == 0)
        {
            return RedirectToPage("/Packs", new { saved = EditedId ?? NewId?.Trim() });
        }

        if (Errors.Contains("ErrorPackNotFound"))
        {
            return NotFound();
        }

        if (Errors.Contains("ErrorPackChanged") && await packs.FindAsync(EditedId!, cancellationToken) is { } current)
        {
            // What changed meanwhile, in a fresh form; what this form said is gone, as the message says.
            Show(current);
        }

        Languages = [.. PackEditor.Languages.Union(Names.Keys, StringComparer.OrdinalIgnoreCase)];
        return Page();
    }

    private void Show(PackState pack)
    {
        (Credits, Price, Currency, IsActive, SortOrder) = (pack.Credits, pack.Price, pack.Currency, pack.IsActive, pack.SortOrder);
        (AppStoreProductId, GooglePlayProductId) = (pack.AppStoreProductId, pack.GooglePlayProductId);
        Names = pack.Names.ToDictionary(name => name.Key, string? (name) => name.Value);
        ExpectedVersion = pack.Version();
        Languages = [.. PackEditor.Languages.Union(pack.Names.Keys, StringComparer.OrdinalIgnoreCase)];
    }
}
