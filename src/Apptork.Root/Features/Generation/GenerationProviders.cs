using System.Buffers.Binary;
using System.ClientModel;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Images;

namespace Apptork.Root.Features.Generation;

/// <summary>One update of a streamed text answer: a piece of it, or the tokens the provider counted (usually at the end).</summary>
public sealed record TextUpdate(string? Text, TokenUsage? Usage = null);

/// <summary>What the provider reported reading and writing for an answer; null where it did not say.</summary>
public sealed record TokenUsage(int? InputTokens, int? OutputTokens);

/// <summary>An image as the provider made it.</summary>
public sealed record ImageOutput(byte[] Bytes, string ContentType);

/// <summary>A failure worth another attempt: the provider was unreachable, slow, rate-limited or answered 5xx.</summary>
public sealed class TransientGenerationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where the AI output comes from.</summary>
public interface IGenerationProvider
{
    /// <summary>The answer in the pieces the model writes it in, each as soon as it arrives, and the tokens it counted.</summary>
    /// <param name="maxOutputTokens">The longest answer; the provider's default when null.</param>
    IAsyncEnumerable<TextUpdate> StreamTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken);

    /// <param name="size">One of <see cref="GenerationOptions.ImageSizes"/>; the provider's default when null.</param>
    Task<ImageOutput> GenerateImageAsync(string prompt, string? size, CancellationToken cancellationToken);
}

/// <summary>
/// Any OpenAI-compatible API: text through Microsoft.Extensions.AI's <see cref="IChatClient"/>, images through the
/// OpenAI client's image generation (which Microsoft.Extensions.AI offers only as an experimental API). Endpoint, key
/// and models come from the <c>Ai__*</c> settings.
/// </summary>
public sealed class OpenAiGenerationProvider : IGenerationProvider
{
    private readonly IChatClient chat;
    private readonly ImageClient images;
    private readonly TimeSpan timeout;

    public OpenAiGenerationProvider(IOptions<AiOptions> options)
    {
        var settings = options.Value;
        timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        // Retries are the job's, with its own backoff and refund: the client must not multiply them.
        var client = new OpenAIClient(new ApiKeyCredential(settings.ApiKey!), new OpenAIClientOptions
        {
            Endpoint = new Uri(settings.Endpoint),
            NetworkTimeout = timeout,
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
        });
        chat = client.GetChatClient(settings.TextModel).AsIChatClient();
        images = client.GetImageClient(settings.ImageModel);
    }

    /// <remarks>
    /// <c>Ai__TimeoutSeconds</c> bounds each wait for the next piece, not the whole answer: a long answer that keeps
    /// coming is not cut, a provider that stops sending is.
    /// </remarks>
    public async IAsyncEnumerable<TextUpdate> StreamTextAsync(string prompt, int? maxOutputTokens, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(timeout);
        var updates = chat.GetStreamingResponseAsync(prompt, new ChatOptions { MaxOutputTokens = maxOutputTokens }, idle.Token).GetAsyncEnumerator(idle.Token);
        try
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception exception) when (Transient(exception, cancellationToken) is { } transient)
                {
                    throw transient;
                }

                idle.CancelAfter(timeout);
                if (updates.Current.Text is { Length: > 0 } text)
                {
                    yield return new TextUpdate(text);
                }

                // The OpenAI client asks for the usage of a streamed answer (stream_options.include_usage): a last chunk.
                foreach (var usage in updates.Current.Contents.OfType<UsageContent>())
                {
                    yield return new TextUpdate(null, new TokenUsage(Tokens(usage.Details.InputTokenCount), Tokens(usage.Details.OutputTokenCount)));
                }
            }
        }
        finally
        {
            await updates.DisposeAsync();
        }
    }

    public async Task<ImageOutput> GenerateImageAsync(string prompt, string? size, CancellationToken cancellationToken)
    {
        var request = new OpenAI.Images.ImageGenerationOptions { ResponseFormat = GeneratedImageFormat.Bytes };
        if (size?.Split('x') is [var width, var height])
        {
            request.Size = new GeneratedImageSize(int.Parse(width, CultureInfo.InvariantCulture), int.Parse(height, CultureInfo.InvariantCulture));
        }

        var image = await CallAsync(token => images.GenerateImageAsync(prompt, request, token), cancellationToken);
        var bytes = image.Value.ImageBytes?.ToArray();
        return bytes is { Length: > 0 } && OfflineGenerationProvider.ContentTypeOf(bytes) is { } contentType
            ? new ImageOutput(bytes, contentType)
            : throw new TransientGenerationException("The provider answered no image it could be read as (PNG, JPEG or WebP).");
    }

    private static int? Tokens(long? count) => count is { } tokens ? (int)Math.Min(tokens, int.MaxValue) : null;

    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await call(deadline.Token);
        }
        catch (Exception exception) when (Transient(exception, cancellationToken) is { } transient)
        {
            throw transient;
        }
    }

    /// <summary>
    /// Network failures (a stream cut halfway included), timeouts, 429 and 5xx are transient; other refusals (a bad key, a
    /// refused prompt) are final, and so is the worker's own cancellation.
    /// </summary>
    private static TransientGenerationException? Transient(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        ClientResultException { Status: 0 or 408 or 409 or 429 or >= 500 } refused => new($"The provider answered {refused.Status}.", exception),
        HttpRequestException or IOException or System.Text.Json.JsonException => new($"The provider call failed: {exception.GetType().Name}.", exception),
        OperationCanceledException when !cancellationToken.IsCancellationRequested => new($"The provider call failed: {exception.GetType().Name}.", exception),
        _ => null,
    };
}

/// <summary>
/// The embedded shape's provider: the same prompt always gives the same text and the same PNG, with no network and no
/// key, so the whole flow (charge, job, storage, download) runs anywhere. Production refuses it at start.
/// </summary>
public sealed class OfflineGenerationProvider : IGenerationProvider
{
    private const int ImageSide = 64;

    private const int WordDelayMilliseconds = 25;

    /// <summary>
    /// Word by word, a short pause before each, as a model writes: the streaming experience without a key. The pause
    /// shrinks for a long prompt so that no answer takes more than about a second. It counts words as tokens, and
    /// stops at <paramref name="maxOutputTokens"/> words as a model stops at that many tokens.
    /// </summary>
    public async IAsyncEnumerable<TextUpdate> StreamTextAsync(string prompt, int? maxOutputTokens, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var words = Words($"[offline] A generated answer to: {prompt}").Take(maxOutputTokens ?? int.MaxValue).ToList();
        var pause = TimeSpan.FromMilliseconds(Math.Min(WordDelayMilliseconds, 1000.0 / words.Count));
        foreach (var word in words)
        {
            await Task.Delay(pause, cancellationToken);
            yield return new TextUpdate(word);
        }

        yield return new TextUpdate(null, new TokenUsage(Words(prompt).Count, words.Count));
    }

    /// <summary>The words of a text, each with the white space after it.</summary>
    private static List<string> Words(string text) => [.. Regex.Split(text, @"(?<=\s)").Where(word => word.Length > 0)];

    /// <summary>Always a small square, whatever the size asked: it stands in for an image, it does not draw one.</summary>
    public Task<ImageOutput> GenerateImageAsync(string prompt, string? size, CancellationToken cancellationToken) =>
        Task.FromResult(new ImageOutput(Png(SHA256.HashData(Encoding.UTF8.GetBytes(prompt))), "image/png"));

    /// <summary>The media type of image bytes, by their signature; null for anything else.</summary>
    public static string? ContentTypeOf(byte[] bytes) => bytes switch
    {
        [0x89, 0x50, 0x4E, 0x47, ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x52, 0x49, 0x46, 0x46, _, _, _, _, 0x57, 0x45, 0x42, 0x50, ..] => "image/webp",
        _ => null,
    };

    /// <summary>
    /// A 64×64 RGB PNG: a gradient between two colours taken from the prompt's hash. Written by hand (signature, IHDR,
    /// one zlib-compressed IDAT, IEND) because .NET has no image encoder outside Windows and this is all the offline
    /// provider needs.
    /// </summary>
    internal static byte[] Png(byte[] seed)
    {
        var rows = new MemoryStream();
        for (var y = 0; y < ImageSide; y++)
        {
            rows.WriteByte(0);
            for (var x = 0; x < ImageSide; x++)
            {
                var mix = (x + y) / (2.0 * (ImageSide - 1));
                for (var channel = 0; channel < 3; channel++)
                {
                    rows.WriteByte((byte)((seed[channel] * (1 - mix)) + (seed[channel + 3] * mix)));
                }
            }
        }

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, ImageSide);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), ImageSide);
        header[8] = 8;
        header[9] = 2;
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            rows.Position = 0;
            rows.CopyTo(zlib);
        }

        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typeAndData));
        png.Write(crc);
    }
}

/// <summary>With <c>Ai__Provider=None</c> no generation is created; one queued before the switch fails (and is refunded) rather than wait.</summary>
internal sealed class UnavailableGenerationProvider : IGenerationProvider
{
    public IAsyncEnumerable<TextUpdate> StreamTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken) => throw Unavailable();

    public Task<ImageOutput> GenerateImageAsync(string prompt, string? size, CancellationToken cancellationToken) => throw Unavailable();

    private static InvalidOperationException Unavailable() => new("Ai__Provider is None: no AI provider is configured.");
}
