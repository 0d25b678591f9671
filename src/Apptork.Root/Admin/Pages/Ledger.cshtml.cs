using System.Globalization;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Exports;
using Apptork.Root.Admin.Wallets;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// Every wallet's ledger entries for finance, newest first, paged by keyset on (created_at, id) (one index range scan
/// per page), filtered by user, kind and UTC days; the same filter downloads as CSV, which is audited.
/// </summary>
public sealed class LedgerModel(LedgerSearch search, AdminAudit audit, RootDbContext database, TimeProvider time) : AdminPageModel
{
    public const int PageSize = 50;

    private static readonly string[] CsvHeader = ["id", "created_at", "user_id", "kind", "amount", "held_change", "balance_after", "reference", "operator", "memo"];

    /// <summary>A user id or email (named <c>user</c>: the page's own <c>User</c> is the signed-in member).</summary>
    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Kind { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    /// <summary>Text keys of the filter fields that are wrong.</summary>
    public IReadOnlyList<string> FilterErrors { get; private set; } = [];

    public IReadOnlyList<LedgerEntry> Entries { get; private set; } = [];

    public IReadOnlyDictionary<Guid, string?> Emails { get; private set; } = new Dictionary<Guid, string?>();

    public string? NextCursor { get; private set; }

    private LedgerFilterInput Input => new(UserFilter, Kind, From, To);

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        (var filter, FilterErrors) = await search.ParseAsync(Input, cancellationToken);
        if (filter is null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        (Entries, NextCursor) = await search.PageAsync(filter, cursor, PageSize, cancellationToken);
        Emails = await search.EmailsAsync(Entries.Select(entry => entry.UserId), cancellationToken);
        Notice = Entries.Count == 0 ? "LedgerNoneFound" : null;
    }

    /// <summary>The filtered ledger as a CSV download, streamed as it is read; the export is audited before it starts.</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        (var filter, FilterErrors) = await search.ParseAsync(Input, cancellationToken);
        if (filter is null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        audit.Record(Actor, AdminActions.LedgerExported, after: Input.ForAudit());
        await database.SaveChangesAsync(cancellationToken);
        var rows = search.Ordered(filter).AsAsyncEnumerable();
        var fileName = $"ledger-{time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.csv";
        return new CsvDownload<LedgerEntry>(fileName, CsvHeader, rows, static (csv, entry) =>
        {
            csv.WriteField(entry.Id);
            csv.WriteField(entry.CreatedAt);
            csv.WriteField(entry.UserId);
            csv.WriteField(LedgerEntry.KindName(entry.Kind));
            csv.WriteField(entry.Amount);
            csv.WriteField(entry.HeldChange);
            csv.WriteField(entry.BalanceAfter);
            csv.WriteField(entry.Reference);
            csv.WriteField(entry.Operator);
            csv.WriteField(entry.Memo);
        });
    }
}
