using System.Globalization;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Exports;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// The audit log, newest first, paged by keyset on its identity column (one index range scan per page), searched by
/// member, action, target and UTC days; the same search downloads as CSV, which is itself audited.
/// </summary>
public sealed class AuditModel(AuditSearch search, AdminAudit audit, RootDbContext database, TimeProvider time) : AdminPageModel
{
    public const int PageSize = 50;

    private static readonly string[] CsvHeader = ["id", "at", "staff_email", "action", "target", "before", "after", "reason", "ip"];

    [BindProperty(SupportsGet = true)]
    public string? StaffEmail { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? AuditAction { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Target { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    /// <summary>Text keys of the filter fields that are wrong.</summary>
    public IReadOnlyList<string> FilterErrors { get; private set; } = [];

    public IReadOnlyList<AdminAuditEntry> Entries { get; private set; } = [];

    public string? NextCursor { get; private set; }

    private AuditFilterInput Input => new(StaffEmail, AuditAction, Target, From, To);

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        (var filter, FilterErrors) = AuditSearch.Parse(Input);
        if (filter is null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // A cursor that is not this list's starts again from the newest entry.
        var after = cursor is null ? null : Cursor.Decode(cursor) as SequenceKey;
        var page = await search.Query(filter).ToCursorPageAsync(new PageRequest(PageSize, after), entry => entry.Id, entry => entry, cancellationToken);
        (Entries, NextCursor) = (page.Results, page.NextCursor);
    }

    /// <summary>The searched log as a CSV download, streamed as it is read; the export is audited before it starts.</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        (var filter, FilterErrors) = AuditSearch.Parse(Input);
        if (filter is null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        audit.Record(Actor, AdminActions.AuditExported, after: Input.ForAudit());
        await database.SaveChangesAsync(cancellationToken);
        var rows = search.Query(filter).OrderByDescending(entry => entry.Id).AsAsyncEnumerable();
        var fileName = $"audit-{time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.csv";
        return new CsvDownload<AdminAuditEntry>(fileName, CsvHeader, rows, static (csv, entry) =>
        {
            csv.WriteField(entry.Id);
            csv.WriteField(entry.At);
            csv.WriteField(entry.StaffEmail);
            csv.WriteField(entry.Action);
            csv.WriteField(entry.Target);
            csv.WriteField(entry.Before);
            csv.WriteField(entry.After);
            csv.WriteField(entry.Reason);
            csv.WriteField(entry.Ip);
        });
    }
}
