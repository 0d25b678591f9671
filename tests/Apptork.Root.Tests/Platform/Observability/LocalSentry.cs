using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Observability;

/// <summary>
/// Sentry's ingestion endpoint on a local Kestrel server: <c>POST /api/{project}/envelope/</c>, gzip or plain, parsed as
/// the SDK writes it (an envelope header line, then for each item a header line and a payload of the header's
/// <c>length</c> bytes, or up to the next newline without one), answered with the event's id as sentry.io does.
/// </summary>
public sealed class LocalSentry : IAsyncDisposable
{
    public const string PublicKey = "publickey";
    public const string Project = "1";

    private readonly WebApplication host;

    private LocalSentry()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        host = builder.Build();
        host.MapPost("/api/{project}/envelope/", (Delegate)ReceiveAsync);
    }

    /// <summary>Every envelope's bytes as the SDK wrote them, decompressed: what a leak would be found in.</summary>
    public ConcurrentQueue<byte[]> RawEnvelopes { get; } = new();

    /// <summary>The payload of every <c>event</c> item received.</summary>
    public ConcurrentQueue<JsonElement> Events { get; } = new();

    public string Dsn { get; private set; } = null!;

    public static async Task<LocalSentry> StartAsync()
    {
        var sentry = new LocalSentry();
        await sentry.host.StartAsync();
        var address = new Uri(sentry.host.Urls.Single());
        sentry.Dsn = $"http://{PublicKey}@127.0.0.1:{address.Port}/{Project}";
        return sentry;
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    /// <summary>Waits for the first event that <paramref name="match"/> accepts.</summary>
    public async Task<JsonElement> WaitForEventAsync(Func<JsonElement, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            foreach (var received in Events)
            {
                if (match(received))
                {
                    return received;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException($"No event {what} reached the local Sentry within 30 s; {Events.Count} other events did.");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Every envelope received so far as one text, to search for what must not be there.</summary>
    public string AllEnvelopesText() => string.Join("\n", RawEnvelopes.Select(Encoding.UTF8.GetString));

    private async Task<IResult> ReceiveAsync(string project, HttpContext context)
    {
        if (project != Project || !context.Request.Headers["X-Sentry-Auth"].ToString().Contains($"sentry_key={PublicKey}", StringComparison.Ordinal))
        {
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        using var body = new MemoryStream();
        var encoding = context.Request.Headers.ContentEncoding.ToString();
        await using (var source = encoding switch
        {
            "gzip" => new GZipStream(context.Request.Body, CompressionMode.Decompress),
            "" => context.Request.Body,
            _ => throw new InvalidOperationException($"Content-Encoding '{encoding}' is not one the SDK uses."),
        })
        {
            await source.CopyToAsync(body);
        }

        var bytes = body.ToArray();
        RawEnvelopes.Enqueue(bytes);
        var (header, items) = Parse(bytes);
        foreach (var (itemHeader, payload) in items)
        {
            if (itemHeader.GetProperty("type").GetString() == "event")
            {
                Events.Enqueue(JsonDocument.Parse(payload).RootElement.Clone());
            }
        }

        return Results.Json(new { id = header.TryGetProperty("event_id", out var id) ? id.GetString() : null });
    }

    internal static (JsonElement Header, List<(JsonElement Header, byte[] Payload)> Items) Parse(byte[] envelope)
    {
        var position = 0;
        var header = JsonDocument.Parse(ReadLine(envelope, ref position)).RootElement.Clone();
        var items = new List<(JsonElement, byte[])>();
        while (position < envelope.Length)
        {
            var line = ReadLine(envelope, ref position);
            if (line.Length == 0)
            {
                continue;
            }

            var itemHeader = JsonDocument.Parse(line).RootElement.Clone();
            byte[] payload;
            if (itemHeader.TryGetProperty("length", out var length))
            {
                payload = envelope[position..(position + length.GetInt32())];
                position += payload.Length;
                // The newline after a payload of known length.
                if (position < envelope.Length && envelope[position] == (byte)'\n')
                {
                    position++;
                }
            }
            else
            {
                payload = ReadLine(envelope, ref position);
            }

            items.Add((itemHeader, payload));
        }

        return (header, items);
    }

    private static byte[] ReadLine(byte[] envelope, ref int position)
    {
        var end = Array.IndexOf(envelope, (byte)'\n', position);
        end = end < 0 ? envelope.Length : end;
        var line = envelope[position..end];
        position = Math.Min(end + 1, envelope.Length);
        return line;
    }
}
