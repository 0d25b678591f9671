using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>How the local AI provider answers its next calls.</summary>
public enum AiBehaviour
{
    Answer,
    /// <summary>500, as an overloaded provider does.</summary>
    Fail,
    /// <summary>Never answers within the client's timeout.</summary>
    Hang,
    /// <summary>200 with a body that is not the API's JSON.</summary>
    Garbage,
}

/// <summary>
/// An OpenAI-compatible API on a local Kestrel server, answering the two calls the application makes through the real
/// OpenAI client: chat completions and image generations (as base64 PNG). It can be told to fail, hang or talk nonsense.
/// </summary>
public sealed class LocalOpenAi : IAsyncDisposable
{
    public const string ApiKey = "sk-local-test";

    private readonly WebApplication host;
    private int cutOffsLeft;

    private LocalOpenAi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        host = builder.Build();
        host.MapPost("/v1/chat/completions", (Delegate)ChatAsync);
        host.MapPost("/v1/images/generations", (Delegate)ImageAsync);
    }

    public AiBehaviour Behaviour { get; set; } = AiBehaviour.Answer;

    /// <summary>How long a call made under <see cref="AiBehaviour.Hang"/> waits before its 504 (unless the caller gives up first).</summary>
    public TimeSpan HangTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long each call waits before it behaves: a slow provider, so that a job is still running when a test acts.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Prompts that start with it are answered 500 whatever <see cref="Behaviour"/> says: failures among successes.</summary>
    public string? FailingPromptPrefix { get; set; }

    /// <summary>The pause before each streamed word: a model writing slowly enough for a test to act mid-answer.</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>A streamed answer stops after this many words until <see cref="HoldRelease"/> completes (and sets <see cref="Held"/>).</summary>
    public int? HoldAfterWords { get; set; }

    public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource HoldRelease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many of the next streamed answers are cut off halfway (the connection dropped), as a flaky network does.</summary>
    public int CutOffStreams
    {
        get => Volatile.Read(ref cutOffsLeft);
        set => Volatile.Write(ref cutOffsLeft, value);
    }

    /// <summary>The usage a streamed answer reports (input, output tokens): 3 and its word count unless set; null reports none.</summary>
    public Func<IReadOnlyList<string>, (int Input, int Output)?> ReportedUsage { get; set; } = words => (3, words.Count);

    /// <summary>The image bytes the provider answers with.</summary>
    public byte[] Image { get; } = Apptork.Root.Features.Generation.OfflineGenerationProvider.Png(RandomNumberGenerator.GetBytes(32));

    public ConcurrentQueue<(string Path, string? Model, string? Prompt)> Calls { get; } = new();

    /// <summary>Every request's JSON body, as the OpenAI client sent it.</summary>
    public ConcurrentQueue<JsonNode> Requests { get; } = new();

    public string Endpoint { get; private set; } = null!;

    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ai:Provider"] = "OpenAI",
        ["Ai:Endpoint"] = Endpoint,
        ["Ai:ApiKey"] = ApiKey,
        ["Ai:TextModel"] = "local-text",
        ["Ai:ImageModel"] = "local-image",
        ["Ai:TimeoutSeconds"] = "2",
    };

    public static async Task<LocalOpenAi> StartAsync()
    {
        var ai = new LocalOpenAi();
        await ai.host.StartAsync();
        ai.Endpoint = $"{ai.host.Urls.Single()}/v1";
        return ai;
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    private async Task<IResult> ChatAsync(HttpContext context)
    {
        var request = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!;
        var prompt = request["messages"]?.AsArray().LastOrDefault()?["content"]?.ToString();
        Calls.Enqueue(("chat", request["model"]?.ToString(), prompt));
        Requests.Enqueue(request);
        var answer = $"Local answer to: {prompt}";
        if (await BehaveAsync(context, prompt) is { } behaved)
        {
            return behaved;
        }

        if (request["stream"]?.GetValue<bool>() == true)
        {
            await StreamAsync(context, request["model"]?.ToString(), answer);
            return Results.Empty;
        }

        return Results.Json(new JsonObject
        {
            ["id"] = "chatcmpl-local", ["object"] = "chat.completion", ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["model"] = request["model"]?.ToString(),
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0, ["finish_reason"] = "stop",
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer },
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 3, ["completion_tokens"] = 5, ["total_tokens"] = 8 },
        });
    }

    /// <summary>The answer as OpenAI streams it: one <c>chat.completion.chunk</c> per word as server-sent events, a usage chunk, then <c>[DONE]</c>.</summary>
    private async Task StreamAsync(HttpContext context, string? model, string answer)
    {
        var cut = Interlocked.Decrement(ref cutOffsLeft) >= 0;
        context.Response.ContentType = "text/event-stream";
        var words = AnswerWords(answer);
        async Task SendAsync(JsonObject chunk)
        {
            chunk["id"] = "chatcmpl-local";
            chunk["object"] = "chat.completion.chunk";
            chunk["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            chunk["model"] = model;
            await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        for (var index = 0; index < words.Count; index++)
        {
            if (index == HoldAfterWords)
            {
                Held.TrySetResult();
                await HoldRelease.Task.WaitAsync(context.RequestAborted);
            }

            if (cut && index == words.Count / 2)
            {
                context.Abort();
                return;
            }

            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay, context.RequestAborted);
            }

            var delta = new JsonObject { ["content"] = words[index] };
            if (index == 0)
            {
                delta["role"] = "assistant";
            }

            await SendAsync(new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = null }) });
        }

        await SendAsync(new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = "stop" }) });
        if (ReportedUsage(words) is var (input, output))
        {
            await SendAsync(new JsonObject
            {
                ["choices"] = new JsonArray(), ["usage"] = new JsonObject { ["prompt_tokens"] = input, ["completion_tokens"] = output, ["total_tokens"] = input + output },
            });
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    /// <summary>The pieces a streamed answer comes in: its words, each with the space that follows it.</summary>
    public static IReadOnlyList<string> AnswerWords(string answer) => [.. System.Text.RegularExpressions.Regex.Split(answer, @"(?<=\s)").Where(word => word.Length > 0)];

    private async Task<IResult> ImageAsync(HttpContext context)
    {
        var request = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!;
        Calls.Enqueue(("images", request["model"]?.ToString(), request["prompt"]?.ToString()));
        Requests.Enqueue(request);
        return await BehaveAsync(context, request["prompt"]?.ToString()) ?? Results.Json(new JsonObject
        {
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["data"] = new JsonArray(new JsonObject { ["b64_json"] = Convert.ToBase64String(Image) }),
        });
    }

    private async Task<IResult?> BehaveAsync(HttpContext context, string? prompt)
    {
        if (context.Request.Headers.Authorization.ToString() != $"Bearer {ApiKey}")
        {
            return Results.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = "Incorrect API key provided.", ["type"] = "invalid_request_error" } }, statusCode: 401);
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }

        var behaviour = FailingPromptPrefix is { } prefix && prompt?.StartsWith(prefix, StringComparison.Ordinal) == true ? AiBehaviour.Fail : Behaviour;
        switch (behaviour)
        {
            case AiBehaviour.Fail:
                return Results.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = "The server is overloaded.", ["type"] = "server_error" } }, statusCode: 500);
            case AiBehaviour.Hang:
                await Task.Delay(HangTime, context.RequestAborted);
                return Results.StatusCode(504);
            case AiBehaviour.Garbage:
                return Results.Text("<html>not json</html>", "application/json");
            default:
                return null;
        }
    }
}
