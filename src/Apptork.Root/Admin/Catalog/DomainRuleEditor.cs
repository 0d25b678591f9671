using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Pagination;

namespace Apptork.Root.Admin.Catalog;

/// <summary>What the lookup box found out about a domain: the decision sign-in makes now, and why.</summary>
public sealed record DomainLookup(string Domain, EmailDomainDecision Decision, bool OnShippedList, EmailDomainRule? Rule);

/// <summary>
/// The domain rules screen's changes, through <see cref="EmailDomainRules"/> (which makes every process decide with
/// them), each with its audit row in the same save; and the lookup support uses to answer "why was my address refused".
/// </summary>
public sealed class DomainRuleEditor(EmailDomainRules rules, EmailDomainPolicy policy, DisposableEmailDomains shipped, AdminAudit audit)
{
    public const int PageSize = 50;

    public Task<CursorPage<EmailDomainRule>> PageAsync(string? cursor, CancellationToken cancellationToken) => rules.PageAsync(cursor, PageSize, cancellationToken);

    /// <summary>A domain or an address (its domain is looked up); null when neither is valid.</summary>
    public async Task<DomainLookup?> LookUpAsync(string? domainOrAddress, CancellationToken cancellationToken)
    {
        var text = domainOrAddress?.Trim() ?? string.Empty;
        var at = text.LastIndexOf('@');
        if (!EmailNormalizer.TryNormalizeDomain(at < 0 ? text : text[(at + 1)..], out var domain))
        {
            return null;
        }

        var decision = await policy.DecideAsync(domain, cancellationToken);
        return new DomainLookup(domain, decision, shipped.IsDisposable(domain), await rules.MatchingAsync(domain, cancellationToken));
    }

    public async Task<CatalogResult> AddAsync(string? domain, EmailDomainRuleKind kind, string? note, AuditActor actor, CancellationToken cancellationToken)
    {
        if (note?.Trim().Length > EmailDomainRuleConfiguration.MaxNoteLength)
        {
            return CatalogResult.Refused("ErrorDomainNoteTooLong");
        }

        var (_, outcome) = await rules.AddAsync(domain, kind, note, rule =>
            audit.Record(actor, AdminActions.DomainRuleCreated, rule.Domain, before: null, State(rule)), cancellationToken);
        return Result(outcome);
    }

    public async Task<CatalogResult> RemoveAsync(long id, EmailDomainRuleKind expectedKind, AuditActor actor, CancellationToken cancellationToken)
    {
        var (_, outcome) = await rules.RemoveAsync(id, expectedKind, rule =>
            audit.Record(actor, AdminActions.DomainRuleDeleted, rule.Domain, State(rule), after: null), cancellationToken);
        return Result(outcome);
    }

    private static CatalogResult Result(EmailDomainRuleOutcome outcome) => outcome switch
    {
        EmailDomainRuleOutcome.Done => CatalogResult.Done,
        EmailDomainRuleOutcome.InvalidDomain => CatalogResult.Refused("ErrorDomainInvalid"),
        EmailDomainRuleOutcome.AlreadyRuled => CatalogResult.Refused("ErrorDomainRuleExists"),
        _ => CatalogResult.Refused("ErrorCatalogStale"),
    };

    private static Dictionary<string, object?> State(EmailDomainRule rule) => new()
    {
        ["domain"] = rule.Domain,
        ["kind"] = rule.Kind.ToString().ToLowerInvariant(),
        ["note"] = rule.Note,
    };
}
