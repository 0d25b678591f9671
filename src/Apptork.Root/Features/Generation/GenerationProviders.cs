using System.Buffers.Binary;
using System.ClientModel;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Images;

namespace Apptork.Root.Features.Generation;

/// <summary>An image as the provider made it.</summary>
public sealed record ImageOutput(byte[] Bytes, string ContentType);

/// <summary>A failure worth another attempt: the provider was unreachable, slow, rate-limited or answered 5xx.</summary>
public sealed class TransientGenerationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where the AI output comes from.</summary>
public interface IGenerationProvider
{
    /// <param name="maxOutputTokens">The longest answer; the provider's default when null.</param>
    Task<string> GenerateTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken);

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

    public async Task<string> GenerateTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken)
    {
        var response = await CallAsync(
            token => chat.GetResponseAsync(prompt, new ChatOptions { MaxOutputTokens = maxOutputTokens }, token), cancellationToken);
        return string.IsNullOrWhiteSpace(response.Text)
            ? throw new TransientGenerationException("The provider answered no text.")
            : response.Text;
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

    /// <summary>Network failures, timeouts, 429 and 5xx are transient; other refusals (a bad key, a refused prompt) are final.</summary>
    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await call(deadline.Token);
        }
        catch (ClientResultException exception) when (exception.Status is 0 or 408 or 409 or 429 or >= 500)
        {
            throw new TransientGenerationException($"The provider answered {exception.Status}.", exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or System.Text.Json.JsonException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransientGenerationException($"The provider call failed: {exception.GetType().Name}.", exception);
        }
    }
}

/// <summary>
/// The embedded shape's provider: the same prompt always gives the same text and the same PNG, with no network and no
/// key, so the whole flow (charge, job, storage, download) runs anywhere. Production refuses it at start.
/// </summary>
public sealed class OfflineGenerationProvider : IGenerationProvider
{
    private const int ImageSide = 64;

    public Task<string> GenerateTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken) =>
        Task.FromResult($"[offline] A generated answer to: {prompt}");

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
    public Task<string> GenerateTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken) => throw Unavailable();

    public Task<ImageOutput> GenerateImageAsync(string prompt, string? size, CancellationToken cancellationToken) => throw Unavailable();

    private static InvalidOperationException Unavailable() => new("Ai__Provider is None: no AI provider is configured.");
}
