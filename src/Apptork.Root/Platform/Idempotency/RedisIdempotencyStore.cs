using System.Security.Cryptography;
using Apptork.Root.Platform.Redis;
using StackExchange.Redis;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>
/// Keys in Redis, where every process of a deployment sees them: one hash per user and key (<c>hash</c>, and <c>claim</c>
/// while the first request runs, then <c>status</c>, <c>type</c>, <c>body</c>), each change one atomic script. The claim's
/// expiry is <see cref="IdempotencyMiddleware.AbandonedAfter"/>, so a crashed request's key lapses by itself; an answer
/// lives <see cref="IdempotencyMiddleware.Retention"/>.
/// </summary>
/// <remarks>
/// Why Redis rather than the database when there is one: the record is written twice per money-moving request, around
/// the endpoint's own transaction, and on PostgreSQL those two statements cost more than the ledger's posting itself
/// (bench/wallet-debits.sh). Losing a record (Redis restarted without persistence, or down: the claim then falls back to
/// the <see cref="DatabaseIdempotencyStore"/>, and so does an answer Redis fails to keep) costs no money: what an endpoint creates is unique in the database under the same key
/// (ledger entries, generations), so a request run again finds its first effect rather than repeating it.
/// </remarks>
public sealed partial class RedisIdempotencyStore(
    IConnectionMultiplexer redis, RedisKeys keys, DatabaseIdempotencyStore database, RedisIdempotencyStore.Outages outages,
    ILogger<RedisIdempotencyStore> logger) : IIdempotencyStore
{
    private const string ClaimScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'claim', ARGV[2])
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          return false
        end
        return redis.call('HMGET', KEYS[1], 'hash', 'status', 'type', 'body')
        """;

    private const string KeepScript = """
        if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then
          return 0
        end
        redis.call('HSET', KEYS[1], 'status', ARGV[2], 'type', ARGV[3], 'body', ARGV[4])
        redis.call('HDEL', KEYS[1], 'claim')
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return 1
        """;

    private const string ReleaseScript = """
        if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then
          return 0
        end
        return redis.call('DEL', KEYS[1])
        """;

    private static readonly long AbandonedAfterMilliseconds = (long)IdempotencyMiddleware.AbandonedAfter.TotalMilliseconds;
    private static readonly long RetentionMilliseconds = (long)IdempotencyMiddleware.Retention.TotalMilliseconds;

    public async Task<IdempotencyClaim> ClaimAsync(IdempotentRequest request, CancellationToken cancellationToken)
    {
        var token = RandomNumberGenerator.GetInt32(1, int.MaxValue);
        RedisResult result;
        try
        {
            result = await redis.GetDatabase().ScriptEvaluateAsync(ClaimScript, [Key(request)], [request.RequestHash, token, AbandonedAfterMilliseconds]);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            WarnOfOutage(exception);

            return await database.ClaimAsync(request, cancellationToken);
        }

        if (result.IsNull)
        {
            return new IdempotencyClaim(this, token, Earlier: null);
        }

        var fields = (RedisValue[])result!;
        // Still in progress in Redis may mean that Redis lost the outcome in an outage: a claim that timed out on its way
        // back (the request then claimed in the database), or an answer it failed to keep (kept in the database then).
        var answer = fields[1].IsNull
            ? await database.KeptAnswerAsync(request, cancellationToken)
            : new KeptAnswer((int)fields[1], fields[2].IsNullOrEmpty ? null : (string?)fields[2], (byte[]?)fields[3] ?? []);
        return new IdempotencyClaim(this, token, new EarlierRequest((byte[])fields[0]!, answer));
    }

    public async Task KeepAsync(IdempotentRequest request, long token, KeptAnswer answer)
    {
        try
        {
            var kept = await redis.GetDatabase().ScriptEvaluateAsync(
                KeepScript, [Key(request)], [token, answer.StatusCode, answer.ContentType ?? string.Empty, answer.Body, RetentionMilliseconds]);
            if ((long)kept == 0)
            {
                LogClaimLapsed(logger, IdempotencyMiddleware.AbandonedAfter.TotalMinutes);
            }
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // The work is done and committed: the client gets its answer, kept in the database too, where a replay that
            // finds the key still in progress in Redis looks.
            WarnOfOutage(exception);
            await database.KeepUnclaimedAsync(request, answer);
        }
    }

    public async Task ReleaseAsync(IdempotentRequest request, long token)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [Key(request)], [token]);
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            WarnOfOutage(exception);
        }
    }

    private void WarnOfOutage(Exception exception)
    {
        if (outages.Warnings.TryWarn(out var requests))
        {
            LogOutage(logger, requests, IdempotencyMiddleware.AbandonedAfter.TotalMinutes, exception);
        }
    }

    private RedisKey Key(IdempotentRequest request) => keys.Named("idempotency", $"{request.UserId:N}:{request.Key}");

    [LoggerMessage(Level = LogLevel.Warning, Message =
        "Redis is unreachable: {Requests} Idempotency-Key operation(s) since the last warning could not reach it. Meanwhile keys are " +
        "claimed in the database; a replay of an answer kept in Redis, or not kept at all, runs again and finds its first effect; " +
        "a key claimed in Redis stays in progress for up to {Minutes} min.")]
    private static partial void LogOutage(ILogger logger, long requests, double minutes, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An Idempotency-Key's claim lapsed (over {Minutes} min) before its answer was kept; a replay will run the request again")]
    private static partial void LogClaimLapsed(ILogger logger, double minutes);

    /// <summary>The process's pace of outage warnings: the store itself lives one request.</summary>
    public sealed class Outages(TimeProvider time)
    {
        public OutageWarningGate Warnings { get; } = new(time);
    }
}
