using Apptork.Root.Admin.Catalog;
using Apptork.Root.Admin.Security;
using Apptork.Root.Features.Fraud;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// The operators' overrides of the shipped disposable-domain list, and a lookup of what sign-in decides for a domain:
/// support reads both (to answer a refused sign-up); superusers add and remove rules.
/// </summary>
[ChangesNeedPolicy(AdminPolicies.Superuser)]
public sealed class DomainsModel(DomainRuleEditor editor) : CatalogPageModel
{
    public IReadOnlyList<EmailDomainRule> Rules { get; private set; } = [];

    public string? NextCursor { get; private set; }

    /// <summary>A domain or an address to look up.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Check { get; set; }

    public DomainLookup? Lookup { get; private set; }

    [BindProperty]
    public string? Domain { get; set; }

    [BindProperty]
    public EmailDomainRuleKind Kind { get; set; } = EmailDomainRuleKind.Block;

    [BindProperty]
    public string? Note { get; set; }

    [BindProperty]
    public long Id { get; set; }

    protected override IReadOnlyDictionary<string, string> FieldLabels => new Dictionary<string, string>
    {
        ["domain"] = AdminTexts.Get("DomainLabel"),
        ["kind"] = AdminTexts.Get("DomainKindLabel"),
    };

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(Check))
        {
            Lookup = await editor.LookUpAsync(Check, cancellationToken);
            Error = Lookup is null ? "ErrorDomainInvalid" : null;
        }

        await LoadAsync(cursor, cancellationToken);
    }

    public async Task OnPostAddAsync(CancellationToken cancellationToken)
    {
        // A rule kind that is neither block nor allow would bind as the default (block): refused instead.
        if (!RefuseUnreadableFields(new Dictionary<string, string> { ["Kind"] = "kind" })
            && Show(await editor.AddAsync(Domain, Kind, Note, Actor, cancellationToken), "DomainRuleAddedNotice"))
        {
            (Check, Domain, Note) = (Domain, null, null);
            Lookup = await editor.LookUpAsync(Check, cancellationToken);
        }

        await LoadAsync(cursor: null, cancellationToken);
    }

    public async Task OnPostRemoveAsync(CancellationToken cancellationToken)
    {
        Show(await editor.RemoveAsync(Id, Kind, Actor, cancellationToken), "DomainRuleRemovedNotice");
        ModelState.Clear();
        Kind = EmailDomainRuleKind.Block;
        await LoadAsync(cursor: null, cancellationToken);
    }

    private async Task LoadAsync(string? cursor, CancellationToken cancellationToken)
    {
        var page = await editor.PageAsync(cursor, cancellationToken);
        (Rules, NextCursor) = (page.Results, page.NextCursor);
    }
}
