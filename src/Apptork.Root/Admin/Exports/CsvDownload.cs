using CsvHelper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Apptork.Root.Admin.Exports;

/// <summary>
/// A CSV file answered as a download, written to the response while its rows are still being read from the database:
/// the rows come as an <see cref="IAsyncEnumerable{T}"/> (a query's <c>AsAsyncEnumerable</c>), and the writer sends its
/// buffer (64 KiB) each time it fills, so memory stays flat however large the table. Text fields that start like a
/// spreadsheet formula (<c>= + - @</c>, tab, CR) are escaped with a leading <c>'</c> so they open as text.
/// </summary>
public sealed class CsvDownload<T>(string fileName, string[] header, IAsyncEnumerable<T> rows, Action<CsvWriter, T> writeFields) : IActionResult
{
    private static readonly CsvWriterOptions Options = CsvWriterOptions.Default with { Injection = CsvInjection.Escape };

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        var cancellationToken = context.HttpContext.RequestAborted;
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName }.ToString();
        response.Headers.CacheControl = "no-store";

        await using var csv = CsvWriter.Create(response.Body, Options, leaveOpen: true);
        csv.WriteHeader(header);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            writeFields(csv, row);
            await csv.EndRecordAsync(cancellationToken);
        }

        await csv.FlushAsync(cancellationToken);
    }
}
