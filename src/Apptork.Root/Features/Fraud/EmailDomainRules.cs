using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Fraud;

/// <summary>What a rule change came to: the rule, or a refusal with the reason.</summary>
public enum EmailDomainRuleOutcome
{
    Done,
    InvalidDomain,
    AlreadyRuled,

    /// <summary>The rule is gone, or is no longer of the kind the operator saw.</summary>
    Changed,
}

/// <summary>
/// The operators' changes to the domain rules: each is saved, then <see cref="EmailDomainPolicy.RefreshAsync"/> makes
/// every process decide with it. <c>beforeSave</c> lets a caller add its own rows (the admin's audit row) to the same save.
/// </summary>
public sealed class EmailDomainRules(RootDbContext db, EmailDomainPolicy policy, TimeProvider time)
{
    /// <summary>Newest first by keyset; a cursor that is not this list's starts again from the first page.</summary>
    public Task<CursorPage<EmailDomainRule>> PageAsync(string? cursor, int pageSize, CancellationToken cancellationToken) =>
        db.EmailDomainRules.AsNoTracking().ToCursorPageAsync(
            new PageRequest(pageSize, cursor is null ? null : Cursor.Decode(cursor) as SequenceKey), rule => rule.Id, rule => rule, cancellationToken);

    /// <summary>The rule that decides for a normalized domain: its own, or its nearest parent's; null when none does.</summary>
    public async Task<EmailDomainRule?> MatchingAsync(string domain, CancellationToken cancellationToken)
    {
        var suffixes = Suffixes(domain);
        var candidates = await db.EmailDomainRules.AsNoTracking().Where(rule => suffixes.Contains(rule.Domain)).ToListAsync(cancellationToken);
        return candidates.OrderByDescending(rule => rule.Domain.Length).FirstOrDefault();
    }

    /// <summary>A rule for the domain (normalized as addresses are) and its subdomains; one rule per domain.</summary>
    public async Task<(EmailDomainRule? Rule, EmailDomainRuleOutcome Outcome)> AddAsync(
        string? domain, EmailDomainRuleKind kind, string? note, Action<EmailDomainRule>? beforeSave, CancellationToken cancellationToken)
    {
        if (!EmailNormalizer.TryNormalizeDomain(domain, out var normalized))
        {
            return (null, EmailDomainRuleOutcome.InvalidDomain);
        }

        if (await db.EmailDomainRules.AnyAsync(rule => rule.Domain == normalized, cancellationToken))
        {
            return (null, EmailDomainRuleOutcome.AlreadyRuled);
        }

        var rule = EmailDomainRule.Create(normalized, kind, string.IsNullOrWhiteSpace(note) ? null : note.Trim(), time.GetUtcNow());
        db.EmailDomainRules.Add(rule);
        beforeSave?.Invoke(rule);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            // Another operator added the same domain at the same moment.
            return (null, EmailDomainRuleOutcome.AlreadyRuled);
        }

        await policy.RefreshAsync(cancellationToken);
        return (rule, EmailDomainRuleOutcome.Done);
    }

    /// <summary>Removes the rule when it is still <paramref name="expectedKind"/>: a rule changed since the form was shown is left as it is.</summary>
    public async Task<(EmailDomainRule? Rule, EmailDomainRuleOutcome Outcome)> RemoveAsync(
        long id, EmailDomainRuleKind expectedKind, Action<EmailDomainRule>? beforeSave, CancellationToken cancellationToken)
    {
        var rule = await db.EmailDomainRules.SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        if (rule is null || rule.Kind != expectedKind)
        {
            return (rule, EmailDomainRuleOutcome.Changed);
        }

        db.EmailDomainRules.Remove(rule);
        beforeSave?.Invoke(rule);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Removed by another operator meanwhile.
            return (null, EmailDomainRuleOutcome.Changed);
        }

        await policy.RefreshAsync(cancellationToken);
        return (rule, EmailDomainRuleOutcome.Done);
    }

    private static List<string> Suffixes(string domain)
    {
        var suffixes = new List<string>();
        foreach (var suffix in new DomainSuffixes(domain))
        {
            suffixes.Add(suffix.ToString());
        }

        return suffixes;
    }
}
