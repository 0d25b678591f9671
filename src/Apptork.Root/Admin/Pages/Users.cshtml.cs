using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// Finds accounts for support: by address (as typed, or every address that normalizes to the same mailbox, as the
/// deduplication at registration sees them), by user id, or by device id (the devices of sessions and registrations,
/// which keep only the id's hash).
/// </summary>
public sealed class UsersModel(RootDbContext db, ILookupNormalizer normalizer, RegistrationGuard registrations) : AdminPageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Query { get; set; }

    public IReadOnlyList<User> Results { get; private set; } = [];

    public string? NextCursor { get; private set; }

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        var query = Query?.Trim();
        if (string.IsNullOrEmpty(query))
        {
            return;
        }

        var ids = new HashSet<Guid>();
        if (Guid.TryParse(query, out var id))
        {
            ids.Add(id);
        }

        // Accounts hold their canonical address as Identity's normalized email; registrations keep only its hash, and
        // still name an account whose address changed since.
        var canonical = normalizer.NormalizeEmail(query);
        ids.UnionWith(await db.Users.Where(user => user.Email == query || user.NormalizedEmail == canonical).Select(user => user.Id).ToListAsync(cancellationToken));
        if (EmailNormalizer.TryNormalize(query, out var normalized) && registrations.EmailHash(normalized.CanonicalKey) is { } emailHash)
        {
            ids.UnionWith(await db.Registrations.Where(registration => registration.EmailHash == emailHash)
                .Select(registration => registration.UserId).ToListAsync(cancellationToken));
        }

        var deviceIdHash = ClientInfo.Hash(query);
        ids.UnionWith(await db.Sessions.Where(session => session.DeviceIdHash == deviceIdHash)
            .Select(session => session.UserId).Distinct().ToListAsync(cancellationToken));
        ids.UnionWith(await db.Registrations.Where(registration => registration.DeviceIdHash == deviceIdHash)
            .Select(registration => registration.UserId).ToListAsync(cancellationToken));

        // Newest accounts first, by keyset; a cursor that is not this list's starts again from the first page.
        var after = cursor is null ? null : Cursor.Decode(cursor) as CreatedKey;
        var page = await db.Users.AsNoTracking().Where(user => ids.Contains(user.Id))
            .ToCursorPageAsync(new PageRequest(PageSize, after), user => user.CreatedAt, user => user.Id, user => user, cancellationToken);
        (Results, NextCursor) = (page.Results, page.NextCursor);
        Notice = Results.Count == 0 ? "UsersNoneFound" : null;
    }
}
