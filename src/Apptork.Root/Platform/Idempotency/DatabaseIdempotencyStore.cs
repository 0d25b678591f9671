using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>
/// Keys as <see cref="IdempotencyRecord"/> rows, on the request's own connection (the middleware opens it for the
/// claim, the endpoint's work and the kept answer); <see cref="IdempotencyCleanupJob"/> forgets them. The token is the row's id.
/// </summary>
public sealed class DatabaseIdempotencyStore(RootDbContext db, TimeProvider time) : IIdempotencyStore
{
    /// <summary>The first use of the key wins the unique index; an abandoned one is taken over by one conditional UPDATE.</summary>
    /// <remarks>
    /// The claim is one INSERT … ON CONFLICT DO NOTHING (the same SQL on both providers) rather than SaveChanges and a
    /// caught unique violation: it runs before every money-moving request.
    /// </remarks>
    public async Task<IdempotencyClaim> ClaimAsync(IdempotentRequest request, CancellationToken cancellationToken)
    {
        var startedAt = Stored(nameof(IdempotencyRecord.StartedAt), request.StartedAt);
        var claimed = await db.Database.SqlQuery<long>($"""
            INSERT INTO idempotency_records (user_id, "key", request_hash, started_at) VALUES ({request.UserId}, {request.Key}, {request.RequestHash}, {startedAt})
            ON CONFLICT (user_id, "key") DO NOTHING RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        if (claimed is [var id])
        {
            return new IdempotencyClaim(this, id, Earlier: null);
        }

        var abandonedBefore = request.StartedAt - IdempotencyMiddleware.AbandonedAfter;
        var takenOver = await Records(request)
            .Where(earlier => earlier.RequestHash == request.RequestHash && earlier.CompletedAt == null && earlier.StartedAt < abandonedBefore)
            .ExecuteUpdateAsync(setters => setters.SetProperty(earlier => earlier.StartedAt, request.StartedAt), cancellationToken);
        if (takenOver == 1)
        {
            return new IdempotencyClaim(this, await Records(request).Select(earlier => earlier.Id).SingleAsync(cancellationToken), Earlier: null);
        }

        var record = await Records(request).AsNoTracking().SingleAsync(cancellationToken);
        var answer = record.CompletedAt is null ? null : new KeptAnswer(record.StatusCode!.Value, record.ContentType, record.Body ?? []);
        return new IdempotencyClaim(this, record.Id, new EarlierRequest(record.RequestHash, answer));
    }

    public Task KeepAsync(IdempotentRequest request, long token, KeptAnswer answer)
    {
        var completedAt = Stored(nameof(IdempotencyRecord.CompletedAt), time.GetUtcNow());
        return db.Database.ExecuteSqlAsync($"""
            UPDATE idempotency_records SET completed_at = {completedAt}, status_code = {answer.StatusCode}, content_type = {answer.ContentType}, body = {answer.Body}
            WHERE id = {token}
            """, CancellationToken.None);
    }

    /// <summary>
    /// Keeps an answer whose key this store never claimed: it was claimed in Redis, which then failed to keep the answer
    /// (<see cref="RedisIdempotencyStore"/> looks here when Redis still shows the key in progress).
    /// </summary>
    public Task KeepUnclaimedAsync(IdempotentRequest request, KeptAnswer answer)
    {
        var startedAt = Stored(nameof(IdempotencyRecord.StartedAt), request.StartedAt);
        var completedAt = Stored(nameof(IdempotencyRecord.CompletedAt), time.GetUtcNow());
        return db.Database.ExecuteSqlAsync($"""
            INSERT INTO idempotency_records (user_id, "key", request_hash, started_at, completed_at, status_code, content_type, body)
            VALUES ({request.UserId}, {request.Key}, {request.RequestHash}, {startedAt}, {completedAt}, {answer.StatusCode}, {answer.ContentType}, {answer.Body})
            ON CONFLICT (user_id, "key") DO UPDATE SET completed_at = excluded.completed_at, status_code = excluded.status_code,
                content_type = excluded.content_type, body = excluded.body
            """, CancellationToken.None);
    }

    /// <summary>The answer kept for the key, if one was.</summary>
    public async Task<KeptAnswer?> KeptAnswerAsync(IdempotentRequest request, CancellationToken cancellationToken) =>
        await Records(request).AsNoTracking().Where(record => record.CompletedAt != null)
            .Select(record => new KeptAnswer(record.StatusCode!.Value, record.ContentType, record.Body ?? Array.Empty<byte>()))
            .SingleOrDefaultAsync(cancellationToken);

    public Task ReleaseAsync(IdempotentRequest request, long token) =>
        db.IdempotencyRecords.Where(claimed => claimed.Id == token && claimed.CompletedAt == null).ExecuteDeleteAsync(CancellationToken.None);

    private IQueryable<IdempotencyRecord> Records(IdempotentRequest request) =>
        db.IdempotencyRecords.Where(record => record.UserId == request.UserId && record.Key == request.Key);

    /// <summary>A value as its column stores it (times are numbers on SQLite), for the statements written by hand.</summary>
    private object Stored(string property, DateTimeOffset value) =>
        db.Model.FindEntityType(typeof(IdempotencyRecord))!.FindProperty(property)!.GetTypeMapping().Converter?.ConvertToProvider(value) ?? value;
}
