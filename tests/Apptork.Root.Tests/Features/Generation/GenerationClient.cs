using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>Creates and polls generations over HTTP as an app does.</summary>
public sealed class GenerationClient(RootApp app, string accessToken, string? acceptLanguage = null)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly HttpClient http = app.Client(acceptLanguage);

    public string AccessToken => accessToken;

    public async Task<HttpResponseMessage> CreateAsync(string type, string prompt, string idempotencyKey, object? options = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/generations") { Content = JsonContent.Create(new { type, prompt, options }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await http.SendAsync(request, Cancel);
    }

    public async Task<View> CreateOkAsync(string type, string prompt, object? options = null)
    {
        using var response = await CreateAsync(type, prompt, Guid.NewGuid().ToString(), options);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<View>(TestJson.Options, Cancel))!;
    }

    public async Task<View> GetAsync(Guid id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/generations/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<View>(TestJson.Options, Cancel))!;
    }

    public async Task<IReadOnlyList<View>> ListAsync() => (await PageAsync(string.Empty)).Results;

    /// <param name="query">The list's query string, e.g. <c>?limit=2&amp;cursor=…</c>.</param>
    public async Task<Page> PageAsync(string query)
    {
        using var response = await GetRawAsync($"/api/v1/generations{query}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<Page>(TestJson.Options, Cancel))!;
    }

    /// <summary>A signed-in POST with no body, whose answer the caller checks.</summary>
    public async Task<HttpResponseMessage> PostRawAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await http.SendAsync(request, Cancel);
    }

    /// <summary>A signed-in GET whose answer the caller checks, e.g. an error.</summary>
    public async Task<HttpResponseMessage> GetRawAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await http.SendAsync(request, Cancel);
    }

    /// <summary>
    /// The generation's server-sent events, read until the server ends the stream or <paramref name="until"/> says
    /// enough (the client then disconnects); each is also handed to <paramref name="received"/>.
    /// </summary>
    /// <param name="lastEventId">Sent as <c>Last-Event-ID</c>, as a reconnecting client does.</param>
    public async Task<List<StreamEvent>> EventsAsync(
        Guid id, Action<StreamEvent>? received = null, string? lastEventId = null, Func<StreamEvent, bool>? until = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/generations/{id}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        return await ReadEventsAsync(response, received, until);
    }

    /// <summary>An event stream's events, as an SSE client parses them.</summary>
    public static async Task<List<StreamEvent>> ReadEventsAsync(
        HttpResponseMessage response, Action<StreamEvent>? received = null, Func<StreamEvent, bool>? until = null)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        await using var stream = await response.Content.ReadAsStreamAsync(Cancel);
        var events = new List<StreamEvent>();
        var parser = SseParser.Create(stream, (type, data) =>
        {
            var json = System.Text.Encoding.UTF8.GetString(data);
            return type switch
            {
                "generation" => new StreamEvent(type, null, json, JsonSerializer.Deserialize<View>(json, TestJson.Options), null),
                "delta" => new StreamEvent(type, null, json, null, JsonSerializer.Deserialize<Delta>(json, TestJson.Options)),
                _ => new StreamEvent(type, null, json, null, null),
            };
        });
        await foreach (var item in parser.EnumerateAsync(Cancel))
        {
            var streamed = item.Data with { Id = item.EventId };
            events.Add(streamed);
            received?.Invoke(streamed);
            if (until?.Invoke(streamed) == true)
            {
                break;
            }
        }

        return events;
    }

    /// <summary>The text a client shows from these events: the deltas since the last <c>restarted</c>, in order.</summary>
    public static string TextOf(IEnumerable<StreamEvent> events)
    {
        var text = new System.Text.StringBuilder();
        foreach (var item in events)
        {
            if (item.Type == "restarted")
            {
                text.Clear();
            }

            text.Append(item.Delta?.Text);
        }

        return text.ToString();
    }

    /// <summary>Polls until the generation reaches <paramref name="status"/>, failing on any other final one.</summary>
    public async Task<View> WaitAsync(Guid id, string status, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var view = await GetAsync(id);
            if (view.Status == status)
            {
                return view;
            }

            view.Status.ShouldBeOneOf(["queued", "running"], $"generation {id} ended {view.Status}, expected {status}");
            if (DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException($"Generation {id} was still {view.Status}, not {status}. The application logged:\n{JobLog()}");
            }

            // Slow enough to stay inside the user scope's rate while a generation retries.
            await Task.Delay(250, Cancel);
        }
    }

    /// <summary>What the application said about its jobs and generations, for the message of a wait that timed out.</summary>
    private string JobLog() => string.Join('\n', app.Logs.Entries
        .Where(entry => entry.Level >= LogLevel.Warning || entry.Category.StartsWith("Hangfire", StringComparison.Ordinal) || entry.Category.Contains("Generation", StringComparison.Ordinal))
        .TakeLast(40)
        .Select(entry => $"{entry.Level} {entry.Category}: {entry.Message} {entry.Exception?.GetType().Name} {entry.Exception?.Message}"));

    public sealed record View(
        Guid Id, string Type, string Status, long Cost, string? ResultText, Guid? ResultFileId, Uri? DownloadUrl, Failure? Error = null, Usage? Usage = null,
        long Held = 0);

    public sealed record Usage(int? InputTokens, int? OutputTokens);

    public sealed record Failure(string Code, string Detail);

    /// <summary>Events as a stream hands them over on another thread, for a test to look at while the stream is still open.</summary>
    public sealed class Received
    {
        private readonly List<StreamEvent> events = [];

        public int Deltas
        {
            get
            {
                lock (events)
                {
                    return events.Count(item => item.Type == "delta");
                }
            }
        }

        public void Add(StreamEvent item)
        {
            lock (events)
            {
                events.Add(item);
            }
        }
    }

    /// <param name="Type"><c>generation</c>, <c>delta</c> or <c>restarted</c>.</param>
    /// <param name="Id">The event's <c>id:</c> field, if it had one.</param>
    /// <param name="Data">The event's data as sent.</param>
    public sealed record StreamEvent(string Type, string? Id, string Data, View? Generation, Delta? Delta);

    public sealed record Delta(int Index, string Text);

    public sealed record Page(IReadOnlyList<View> Results, string? NextCursor);
}
