using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Generations;

/// <summary>
/// How much later than the provider a client sees a text generation's first token, with an <c>api</c> process and a
/// <c>worker</c> process apart (the production shape, Redis between them): the client's first <c>delta</c> event minus
/// the provider's first chunk, both on this process's clock. And what an <c>api</c> process holding many open event
/// streams costs in memory, per stream.
/// </summary>
internal static class StreamingBenchmark
{
    private const int WarmUps = 20;

    public static async Task<int> RunAsync(string connectionString, int samples, int streams)
    {
        await using var provider = await StreamingProvider.StartAsync();
        // Creations go through an api in this process (its services also seed the user); the client follows each
        // generation on another api process, so every piece crosses from the worker through Redis.
        await using var creator = GenerationHost.Start(connectionString, provider.Endpoint, "api");
        await using var follower = ProductProcess.Start(connectionString, provider.Endpoint, "api");
        var worker = ProductProcess.Start(connectionString, provider.Endpoint, "worker");
        await Task.WhenAll(follower.WaitUntilLiveAsync(), worker.WaitUntilLiveAsync());
        using var create = await GenerationsBenchmark.SignedInClientAsync(creator, credits: samples + streams + WarmUps);
        using var follow = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = follower.Address, Timeout = Timeout.InfiniteTimeSpan };
        follow.DefaultRequestHeaders.Authorization = create.DefaultRequestHeaders.Authorization;

        var delivery = new List<double>();
        var overall = new List<double>();
        for (var index = -WarmUps; index < samples; index++)
        {
            var prompt = $"stream {index}";
            var posted = Stopwatch.GetTimestamp();
            var id = await GenerationsBenchmark.CreateAsync(create, prompt);
            var firstDelta = await FirstDeltaAsync(follow, id);
            var sent = provider.Calls[prompt];
            if (index >= 0)
            {
                delivery.Add(Stopwatch.GetElapsedTime(sent.FirstChunk, firstDelta).TotalMilliseconds);
                overall.Add((Stopwatch.GetElapsedTime(posted, firstDelta) - Stopwatch.GetElapsedTime(sent.Received, sent.FirstChunk)).TotalMilliseconds);
            }
        }

        // Open streams on queued generations (no worker from here on), each read to its first event and then held.
        await worker.DisposeAsync();
        var ids = new List<Guid>();
        for (var index = 0; index < streams; index++)
        {
            ids.Add(await GenerationsBenchmark.CreateAsync(create, $"held {index}"));
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var before = follower.ResidentBytes;
        using var holding = new CancellationTokenSource();
        var opened = new CountdownEvent(streams);
        var held = ids.Select(id => HoldAsync(follow, id, opened, holding.Token)).ToList();
        if (!opened.Wait(TimeSpan.FromSeconds(120)))
        {
            throw new InvalidOperationException($"Only {streams - opened.CurrentCount} of {streams} streams opened.");
        }

        await Task.Delay(TimeSpan.FromSeconds(5));
        var after = follower.ResidentBytes;
        await holding.CancelAsync();
        await Task.WhenAll(held);

        Console.WriteLine("text generations streamed: api and worker processes apart, Redis between them; the provider waits 50 ms, then writes 20 chunks 5 ms apart");
        Console.WriteLine($"{"",-66} {"p50 ms",8} {"p95 ms",8}");
        Console.WriteLine($"{"first delta at the client minus first chunk sent by the provider",-66} {Percentile(delivery, 50),8:F1} {Percentile(delivery, 95),8:F1}");
        Console.WriteLine($"{"request to first delta, minus the provider's own time to first token",-66} {Percentile(overall, 50),8:F1} {Percentile(overall, 95),8:F1}");
        Console.WriteLine($"{streams} open event streams on one api process: RSS {before / 1048576.0:F0} → {after / 1048576.0:F0} MiB, {(after - before) / 1024.0 / streams:F1} KiB per stream");
        Console.WriteLine(FormattableString.Invariant($"RESULT stream_first_delta_p50_ms={Percentile(delivery, 50):F1}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT stream_first_delta_p95_ms={Percentile(delivery, 95):F1}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT stream_first_token_extra_p95_ms={Percentile(overall, 95):F1}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT stream_open_kib_each={(after - before) / 1024.0 / streams:F1}"));
        return 0;
    }

    /// <summary>When the first <c>delta</c> event of the generation reached the client.</summary>
    private static async Task<long> FirstDeltaAsync(HttpClient follow, Guid id)
    {
        using var response = await follow.GetAsync($"/api/v1/generations/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(body).EnumerateAsync())
        {
            if (item.EventType == "delta")
            {
                return Stopwatch.GetTimestamp();
            }
        }

        throw new InvalidOperationException($"Generation {id}'s stream ended without a delta.");
    }

    private static async Task HoldAsync(HttpClient follow, Guid id, CountdownEvent opened, CancellationToken holding)
    {
        try
        {
            using var response = await follow.GetAsync($"/api/v1/generations/{id}/events", HttpCompletionOption.ResponseHeadersRead, holding);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(holding);
            var first = true;
            await foreach (var _ in SseParser.Create(body).EnumerateAsync(holding))
            {
                if (first)
                {
                    first = false;
                    opened.Signal();
                }
            }
        }
        catch (OperationCanceledException) when (holding.IsCancellationRequested)
        {
        }
    }

    private static double Percentile(List<double> values, int percentile) => GenerationsBenchmark.Percentile(values, percentile);
}

/// <summary>
/// An OpenAI-compatible chat endpoint that streams as a model does: a pause before the first token, then chunks at a
/// steady pace. It notes, on this process's clock, when each call arrived and when its first chunk was sent.
/// </summary>
internal sealed class StreamingProvider : IAsyncDisposable
{
    private static readonly TimeSpan FirstTokenDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ChunkInterval = TimeSpan.FromMilliseconds(5);
    private const int Chunks = 20;

    private readonly WebApplication app;

    private StreamingProvider(WebApplication app) => this.app = app;

    public ConcurrentDictionary<string, (long Received, long FirstChunk)> Calls { get; } = new();

    public string Endpoint => $"{app.Urls.Single()}/v1";

    public static async Task<StreamingProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var provider = new StreamingProvider(builder.Build());
        provider.app.MapPost("/v1/chat/completions", provider.StreamAsync);
        await provider.app.StartAsync();
        return provider;
    }

    private async Task StreamAsync(HttpContext context)
    {
        var received = Stopwatch.GetTimestamp();
        using var request = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body);
        var prompt = request.RootElement.GetProperty("messages")[0].GetProperty("content").ToString();
        context.Response.ContentType = "text/event-stream";
        await Task.Delay(FirstTokenDelay);
        for (var index = 0; index < Chunks; index++)
        {
            if (index == 0)
            {
                // Before the write: the delay measured from here is, if anything, overstated.
                Calls[prompt] = (received, Stopwatch.GetTimestamp());
            }

            await context.Response.WriteAsync(
                $$"""data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[{"index":0,"delta":{"content":"w{{index}} "},"finish_reason":null}]}""" + "\n\n");
            await context.Response.Body.FlushAsync();
            await Task.Delay(ChunkInterval);
        }

        await context.Response.WriteAsync(
            """data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""" + "\n\ndata: [DONE]\n\n");
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
