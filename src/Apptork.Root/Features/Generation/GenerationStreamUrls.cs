using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Links to one generation's event stream that carry their own short-lived credential, for clients that cannot send an
/// <c>Authorization</c> header (a browser's <c>EventSource</c>). The token is the user and the generation protected by
/// ASP.NET Core Data Protection with an expiry, as the local storage's signed file links are: it cannot be forged,
/// altered or used after it expires, and, its purpose being its own, it opens nothing but that one stream (it is no
/// JWT, so the bearer scheme refuses it everywhere).
/// </summary>
public sealed class GenerationStreamUrls(IDataProtectionProvider protection, IOptions<GenerationOptions> options, PublicUrls urls, TimeProvider time)
{
    public const string TokenParameter = "token";
    private const string Purpose = "apptork-root/generation-stream";

    private readonly ExpiringTokens tokens = new(protection, Purpose);

    public GenerationStreamUrl Issue(Guid userId, Guid generationId)
    {
        var expiresAt = time.GetUtcNow() + TimeSpan.FromSeconds(options.Value.StreamUrlSeconds);
        var token = tokens.Issue($"{userId:N}\n{generationId:N}", expiresAt);
        return new GenerationStreamUrl(
            urls.Absolute($"/api/v1/generations/{generationId}/events?{TokenParameter}={token}"), expiresAt);
    }

    /// <summary>The user a valid, unexpired token for this generation was issued to; null for any other token.</summary>
    public Guid? UserFor(string token, Guid generationId) =>
        tokens.Read(token)?.Split('\n') is [var user, var generation]
            && Guid.TryParseExact(user, "N", out var userId) && Guid.TryParseExact(generation, "N", out var signedGeneration) && signedGeneration == generationId
            ? userId
            : null;
}

/// <param name="StreamUrl">The generation's event stream, for <c>new EventSource(stream_url)</c>: no header needed.</param>
/// <param name="ExpiresAt">After it, the link is refused (<c>invalid_stream_token</c>): ask for another one.</param>
public sealed record GenerationStreamUrl(Uri StreamUrl, DateTimeOffset ExpiresAt);
