using System.Buffers.Text;
using System.Globalization;
using System.Text;
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

    /// <summary>
    /// One page of the matching entries, newest first by (created_at, id), after the entry <paramref name="cursor"/> names
    /// (a cursor that is not this list's starts again from the newest); the next page's cursor when there is one.
    /// </summary>
    public async Task<(IReadOnlyList<LedgerEntry> Entries, string? NextCursor)> PageAsync(
        LedgerFilter filter, string? cursor, int size, CancellationToken cancellationToken)
    {
        var entries = Query(filter);
        if (LedgerCursor.Decode(cursor) is var (at, id))
        {
            // created_at <= t is the index's range condition; the rest only sorts out the entries of that same instant.
            entries = entries.Where(entry => entry.CreatedAt <= at && (entry.CreatedAt < at || entry.Id < id));
        }

        var rows = await entries.OrderByDescending(entry => entry.CreatedAt).ThenByDescending(entry => entry.Id).Take(size + 1).ToListAsync(cancellationToken);
        var page = rows.Take(size).ToList();
        return (page, rows.Count > size ? LedgerCursor.Encode(page[^1]) : null);
    }

    /// <summary>Every matching entry in the pages' order, for the export.</summary>
    public IQueryable<LedgerEntry> Ordered(LedgerFilter filter) =>
        Query(filter).OrderByDescending(entry => entry.CreatedAt).ThenByDescending(entry => entry.Id);

    private IQueryable<LedgerEntry> Query(LedgerFilter filter)
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

/// <summary>
/// Where a ledger page ends: the last entry's time and id, opaque to the browser (base64url of a versioned text). Not the
/// API's id cursor: the list is ordered by time so that a range of days is one index range.
/// </summary>
internal static class LedgerCursor
{
    private const string Prefix = "l1:";
    private const int MaxLength = 100;

    public static string Encode(LedgerEntry last) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{last.CreatedAt.UtcTicks}:{last.Id}")));

    public static (DateTimeOffset At, long Id)? Decode(string? cursor)
    {
        if (cursor is null || cursor.Length > MaxLength || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        return text.StartsWith(Prefix, StringComparison.Ordinal)
            && text[Prefix.Length..].Split(':') is [var ticks, var id]
            && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var utcTicks)
            && utcTicks <= DateTimeOffset.MaxValue.UtcTicks
            && long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var entryId)
            ? (new DateTimeOffset(utcTicks, TimeSpan.Zero), entryId)
            : null;
    }
}
