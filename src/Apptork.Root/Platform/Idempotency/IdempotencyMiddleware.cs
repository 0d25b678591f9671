using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>Marks an endpoint that creates money or work: it requires an <c>Idempotency-Key</c> from a signed-in caller.</summary>
public sealed class IdempotentMetadata;

public static class IdempotencyExtensions
{
    public static TBuilder Idempotent<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IdempotentMetadata())
            .ProducesErrors(ErrorCatalog.Required, ErrorCatalog.IdempotencyKeyReused, ErrorCatalog.IdempotencyRequestInProgress);
}

/// <summary>
/// SPEC 7's idempotency for every endpoint marked <c>.Idempotent()</c>: the first request with a key runs and its answer
/// is kept; a replay with the same key and the same request gets that answer again and changes nothing; a replay while
/// the first is still running is 409 <c>idempotency_request_in_progress</c> with Retry-After; the same key with another
/// request is 422 <c>idempotency_key_reused</c>. Keys are scoped per user. A request that fails (an error, not an answer
/// to keep) releases its key so the client can retry, and a key whose request never finished (a crashed process) can
/// be taken over after <see cref="AbandonedAfter"/>.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next, TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(5);

    public async Task InvokeAsync(HttpContext context, RootDbContext db)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IdempotentMetadata>() is null
            || context.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value is not { } subject)
        {
            await next(context);
            return;
        }

        var key = context.Request.Headers[Header].ToString();
        if (string.IsNullOrWhiteSpace(key))
        {
            throw ErrorCatalog.Required.ToException("idempotency_key");
        }

        if (key.Length > IdempotencyRecord.MaxKeyLength)
        {
            throw ErrorCatalog.MaxLength.ToException("idempotency_key", new Dictionary<string, object?> { ["max_length"] = IdempotencyRecord.MaxKeyLength });
        }

        var userId = Guid.Parse(subject);
        var record = new IdempotencyRecord { UserId = userId, Key = key, RequestHash = await RequestHashAsync(context.Request), StartedAt = time.GetUtcNow() };
        // One connection for the claim, the endpoint's work and the kept answer, instead of a pool checkout (and reset) for each.
        await db.Database.OpenConnectionAsync(context.RequestAborted);
        try
        {
            if (!await ClaimAsync(db, record, context.RequestAborted))
            {
                await AnswerFromEarlierAsync(context, db, record);
                return;
            }

            await RunAndKeepAsync(context, db, record);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The first use of the key wins the unique index; an abandoned one is taken over by one conditional UPDATE.</summary>
    /// <remarks>
    /// The claim is one INSERT … ON CONFLICT DO NOTHING (the same SQL on both providers) rather than SaveChanges and a
    /// caught unique violation: it runs before every money-moving request, and bench/wallet-debits.sh measures it.
    /// </remarks>
    private static async Task<bool> ClaimAsync(RootDbContext db, IdempotencyRecord record, CancellationToken cancellationToken)
    {
        var startedAt = Stored(db, nameof(IdempotencyRecord.StartedAt), record.StartedAt);
        var claimed = await db.Database.SqlQuery<long>($"""
            INSERT INTO idempotency_records (user_id, "key", request_hash, started_at) VALUES ({record.UserId}, {record.Key}, {record.RequestHash}, {startedAt})
            ON CONFLICT (user_id, "key") DO NOTHING RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        if (claimed is [var id])
        {
            record.Id = id;
            return true;
        }

        var abandonedBefore = record.StartedAt - AbandonedAfter;
        var takenOver = await db.IdempotencyRecords
            .Where(earlier => earlier.UserId == record.UserId && earlier.Key == record.Key && earlier.RequestHash == record.RequestHash
                && earlier.CompletedAt == null && earlier.StartedAt < abandonedBefore)
            .ExecuteUpdateAsync(setters => setters.SetProperty(earlier => earlier.StartedAt, record.StartedAt), cancellationToken);
        if (takenOver == 1)
        {
            record.Id = await db.IdempotencyRecords.Where(earlier => earlier.UserId == record.UserId && earlier.Key == record.Key)
                .Select(earlier => earlier.Id).SingleAsync(cancellationToken);
            return true;
        }

        return false;
    }

    private static async Task AnswerFromEarlierAsync(HttpContext context, RootDbContext db, IdempotencyRecord record)
    {
        var earlier = await db.IdempotencyRecords.AsNoTracking()
            .SingleAsync(candidate => candidate.UserId == record.UserId && candidate.Key == record.Key, context.RequestAborted);
        if (!earlier.RequestHash.AsSpan().SequenceEqual(record.RequestHash))
        {
            throw ErrorCatalog.IdempotencyKeyReused.ToException("idempotency_key");
        }

        if (earlier.CompletedAt is null)
        {
            throw new ApiException([ErrorCatalog.IdempotencyRequestInProgress.At("idempotency_key")], TimeSpan.FromSeconds(1));
        }

        context.Response.StatusCode = earlier.StatusCode!.Value;
        context.Response.ContentType = earlier.ContentType;
        context.Response.Headers["Idempotent-Replayed"] = "true";
        if (earlier.Body is { Length: > 0 } body)
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>Runs the endpoint with its answer buffered, keeps a successful answer, and releases the key otherwise.</summary>
    private async Task RunAndKeepAsync(HttpContext context, RootDbContext db, IdempotencyRecord record)
    {
        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        catch
        {
            await ReleaseAsync(db, record);
            throw;
        }
        finally
        {
            context.Response.Body = original;
        }

        if (context.Response.StatusCode >= 400)
        {
            await ReleaseAsync(db, record);
        }
        else
        {
            var (completedAt, status, contentType, body) =
                (Stored(db, nameof(IdempotencyRecord.CompletedAt), time.GetUtcNow()), context.Response.StatusCode, context.Response.ContentType, buffer.ToArray());
            await db.Database.ExecuteSqlAsync($"""
                UPDATE idempotency_records SET completed_at = {completedAt}, status_code = {status}, content_type = {contentType}, body = {body}
                WHERE id = {record.Id}
                """, CancellationToken.None);
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>A value as its column stores it (times are numbers on SQLite), for the statements written by hand.</summary>
    private static object Stored(RootDbContext db, string property, DateTimeOffset value) =>
        db.Model.FindEntityType(typeof(IdempotencyRecord))!.FindProperty(property)!.GetTypeMapping().Converter?.ConvertToProvider(value) ?? value;

    private static Task<int> ReleaseAsync(RootDbContext db, IdempotencyRecord record) =>
        db.IdempotencyRecords.Where(claimed => claimed.Id == record.Id && claimed.CompletedAt == null).ExecuteDeleteAsync(CancellationToken.None);

    private static async Task<byte[]> RequestHashAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n"));
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            hash.AppendData(chunk, 0, read);
        }

        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }
}
