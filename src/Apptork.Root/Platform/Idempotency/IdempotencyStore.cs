using Apptork.Root.Platform.Errors;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>
/// One request's use of an Idempotency-Key: whose, which key, and the digest of the request it came with (method, path,
/// query and body). <see cref="IdempotencyMiddleware"/> puts it on <c>HttpContext.Features</c> for the endpoint it runs,
/// which reads the key there (<c>context.Features.GetRequiredFeature&lt;IdempotentRequest&gt;()</c>), never from the header.
/// </summary>
public sealed record IdempotentRequest(Guid UserId, string Key, byte[] RequestHash, DateTimeOffset StartedAt)
{
    /// <summary>
    /// The one rule for a key met again: only the request it was first used with may be answered again; any other is
    /// refused with <c>idempotency_key_reused</c> (an unknown digest too: the earlier request cannot be told apart).
    /// </summary>
    public void RefuseUnlessSameAs(byte[]? earlierRequestHash)
    {
        if (earlierRequestHash is null || !earlierRequestHash.AsSpan().SequenceEqual(RequestHash))
        {
            throw ErrorCatalog.IdempotencyKeyReused.ToException("idempotency_key");
        }
    }
}

/// <summary>A successful answer, kept so that every replay gets it again.</summary>
public sealed record KeptAnswer(int StatusCode, string? ContentType, byte[] Body);

/// <summary>What an earlier request with the same key left: its digest, and its answer (null while it is still running).</summary>
public sealed record EarlierRequest(byte[] RequestHash, KeptAnswer? Answer);

/// <summary>
/// The outcome of a claim: either this request holds the key (<see cref="Holder"/> and <see cref="Token"/> keep or
/// release it), or an earlier request does (<see cref="Earlier"/>).
/// </summary>
public sealed record IdempotencyClaim(IIdempotencyStore Holder, long Token, EarlierRequest? Earlier)
{
    public bool IsClaimed => Earlier is null;
}

/// <summary>
/// Where Idempotency-Keys live for <see cref="IdempotencyMiddleware"/>: the database in the embedded shape, Redis when
/// <c>ConnectionStrings__Redis</c> is set. Either way a key is held by one request at a time, an answer is kept at least
/// <see cref="IdempotencyMiddleware.Retention"/>, and a claim whose request never finished lapses after
/// <see cref="IdempotencyMiddleware.AbandonedAfter"/>.
/// </summary>
public interface IIdempotencyStore
{
    Task<IdempotencyClaim> ClaimAsync(IdempotentRequest request, CancellationToken cancellationToken);

    /// <summary>Keeps the answer of the request holding <paramref name="token"/>.</summary>
    Task KeepAsync(IdempotentRequest request, long token, KeptAnswer answer);

    /// <summary>Forgets the key, so that the client may try again, if <paramref name="token"/> still holds it.</summary>
    Task ReleaseAsync(IdempotentRequest request, long token);
}
