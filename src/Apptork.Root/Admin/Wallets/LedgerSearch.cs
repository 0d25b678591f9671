using Apptork.Root.Admin.Exports;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Wallets;

/// <summary>The ledger screen's filters as the form sends them: text, checked by <see cref="LedgerSearch.ParseAsync"/>.</summary>
public sealed record LedgerFilterInput(string? User, string? Kind, string? From, string? To)
{
    /// <summary>What the audit row of an export says was exported.</summary>
    public object ForAudit() => new { User, Kind, From, To };
}

/// <summary>A checked filter: every field that was given, as the query needs it.</summary>
public sealed record LedgerFilter(Guid? UserId, LedgerEntryKind? Kind, UtcDateRange Dates);

/// <summary>The ledger across every wallet, for finance: filtered by user, kind and UTC days, newest first.</summary>
public sealed class LedgerSearch(RootDbContext database, ILookupNormalizer normalizer)
{
    /// <summary>The filter, or null with the text keys of the wrong fields (each naming its field).</summary>
    public async Task<(LedgerFilter? Filter, IReadOnlyList<string> Errors)> ParseAsync(LedgerFilterInput input, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        Guid? userId = null;
        if (!string.IsNullOrWhiteSpace(input.User))
        {
            userId = await FindUserAsync(input.User.Trim(), cancellationToken);
            if (userId is null)
            {
                errors.Add("ErrorLedgerUserNotFound");
            }
        }

        LedgerEntryKind? kind = null;
        if (!string.IsNullOrWhiteSpace(input.Kind))
        {
            if (LedgerEntry.TryParseKind(input.Kind.Trim(), out var parsed))
            {
                kind = parsed;
            }
            else
            {
                errors.Add("ErrorLedgerKindInvalid");
            }
        }

        var dates = UtcDateRange.Parse(input.From, input.To, errors);
        return errors.Count > 0 ? (null, errors) : (new LedgerFilter(userId, kind, dates), errors);
    }

    /// <summary>The matching entries, unordered: the page orders them by id, newest first.</summary>
    public IQueryable<LedgerEntry> Query(LedgerFilter filter)
    {
        var entries = database.LedgerEntries.AsNoTracking();
        if (filter.UserId is { } userId)
        {
            entries = entries.Where(entry => entry.UserId == userId);
        }

        if (filter.Kind is { } kind)
        {
            entries = entries.Where(entry => entry.Kind == kind);
        }

        if (filter.Dates.From is { } from)
        {
            entries = entries.Where(entry => entry.CreatedAt >= from);
        }

        if (filter.Dates.Before is { } before)
        {
            entries = entries.Where(entry => entry.CreatedAt < before);
        }

        return entries;
    }

    /// <summary>The emails of the users a page of entries names, for its links.</summary>
    public async Task<Dictionary<Guid, string?>> EmailsAsync(IEnumerable<Guid> userIds, CancellationToken cancellationToken)
    {
        var ids = userIds.Distinct().ToList();
        return await database.Users.AsNoTracking().Where(user => ids.Contains(user.Id))
            .ToDictionaryAsync(user => user.Id, user => user.Email, cancellationToken);
    }

    private async Task<Guid?> FindUserAsync(string idOrEmail, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(idOrEmail, out var id))
        {
            return await database.Users.AnyAsync(user => user.Id == id, cancellationToken) ? id : null;
        }

        // The sign-in's own normalization, so any spelling of the mailbox finds its account.
        var normalized = normalizer.NormalizeEmail(idOrEmail);
        return await database.Users.Where(user => user.NormalizedEmail == normalized).Select(user => (Guid?)user.Id).SingleOrDefaultAsync(cancellationToken);
    }
}
