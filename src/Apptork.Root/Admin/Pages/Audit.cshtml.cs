using Apptork.Root.Admin.Audit;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>The audit log, newest first, paged by keyset on its identity column (one index range scan per page).</summary>
public sealed class AuditModel(RootDbContext database) : AdminPageModel
{
    public const int PageSize = 50;

    public IReadOnlyList<AdminAuditEntry> Entries { get; private set; } = [];

    public string? NextCursor { get; private set; }

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        // A cursor that is not this list's starts again from the newest entry.
        var after = cursor is null ? null : Cursor.Decode(cursor) as SequenceKey;
        var page = await database.AdminAudit.AsNoTracking()
            .ToCursorPageAsync(new PageRequest(PageSize, after), entry => entry.Id, entry => entry, cancellationToken);
        (Entries, NextCursor) = (page.Results, page.NextCursor);
    }
}
