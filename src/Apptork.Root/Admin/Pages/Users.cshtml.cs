using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Callers;
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
    /// <summary>Searches name one account, or the few sharing a mailbox or device: more than this is cut, and the page says so.</summary>
    public const int MaxResults = 50;

    [BindProperty(SupportsGet = true)]
    public string? Query { get; set; }

    public IReadOnlyList<User> Results { get; private set; } = [];

    public bool Truncated { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
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
                .Select(registration => registration.UserId).Take(MaxResults + 1).ToListAsync(cancellationToken));
        }

        var deviceIdHash = ClientInfo.Hash(query);
        ids.UnionWith(await db.Sessions.Where(session => session.DeviceIdHash == deviceIdHash)
            .Select(session => session.UserId).Distinct().Take(MaxResults + 1).ToListAsync(cancellationToken));
        ids.UnionWith(await db.Registrations.Where(registration => registration.DeviceIdHash == deviceIdHash)
            .Select(registration => registration.UserId).Take(MaxResults + 1).ToListAsync(cancellationToken));

        var found = await db.Users.AsNoTracking().Where(user => ids.Contains(user.Id))
            .OrderBy(user => user.Email).ThenBy(user => user.Id).Take(MaxResults + 1).ToListAsync(cancellationToken);
        Truncated = found.Count > MaxResults;
        Results = found.Take(MaxResults).ToList();
        Notice = Results.Count == 0 ? "UsersNoneFound" : null;
    }
}
