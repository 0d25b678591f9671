using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Redis;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;

namespace Apptork.Root.Platform.Idempotency;

/// <summary>Marks an endpoint that creates money or work: it requires an <c>Idempotency-Key</c> from a signed-in caller.</summary>
public sealed class IdempotentMetadata;

public static class IdempotencyExtensions
{
    public static TBuilder Idempotent<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IdempotentMetadata())
            .ProducesErrors(ErrorCatalog.Required, ErrorCatalog.IdempotencyKeyReused, ErrorCatalog.IdempotencyRequestInProgress);

    /// <summary>Keys in Redis when the deployment has one (shared by its processes), in the database otherwise.</summary>
    public static IServiceCollection AddIdempotency(this IServiceCollection services)
    {
        services.AddScoped<DatabaseIdempotencyStore>();
        services.AddSingleton<RedisIdempotencyStore.Outages>();
        services.AddScoped<IIdempotencyStore>(provider => provider.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisIdempotencyStore(
                redis, provider.GetRequiredService<RedisKeys>(), provider.GetRequiredService<DatabaseIdempotencyStore>(),
                provider.GetRequiredService<RedisIdempotencyStore.Outages>(), provider.GetRequiredService<ILogger<RedisIdempotencyStore>>())
            : provider.GetRequiredService<DatabaseIdempotencyStore>());
        services.AddScoped<IRecurringJob, IdempotencyCleanupJob>();
        return services;
    }
}

/// <summary>
/// Idempotency for every endpoint marked <c>.Idempotent()</c>: the first request with a key runs and its answer
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

    /// <summary>How long an answer is kept: at least 24 hours, so a client retrying after a day-long outage still gets it.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    public async Task InvokeAsync(HttpContext context)
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

        var request = new IdempotentRequest(Guid.Parse(subject), key, await RequestHashAsync(context.Request), time.GetUtcNow());
        // Resolved here, not as InvokeAsync's parameters: those would be built for every request, idempotent or not.
        var db = context.RequestServices.GetRequiredService<RootDbContext>();
        var store = context.RequestServices.GetRequiredService<IIdempotencyStore>();
        // One connection for the endpoint's work and, in the database store, the claim and the kept answer, instead of a
        // pool checkout (and reset) for each.
        await db.Database.OpenConnectionAsync(context.RequestAborted);
        try
        {
            var claim = await store.ClaimAsync(request, context.RequestAborted);
            if (claim.Earlier is { } earlier)
            {
                await AnswerFromEarlierAsync(context, request, earlier);
                return;
            }

            context.Features.Set(request);
            await RunAndKeepAsync(context, request, claim);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task AnswerFromEarlierAsync(HttpContext context, IdempotentRequest request, EarlierRequest earlier)
    {
        request.RefuseUnlessSameAs(earlier.RequestHash);
        if (earlier.Answer is not { } answer)
        {
            throw new ApiException([ErrorCatalog.IdempotencyRequestInProgress.At("idempotency_key")], TimeSpan.FromSeconds(1));
        }

        context.Response.StatusCode = answer.StatusCode;
        context.Response.ContentType = answer.ContentType;
        context.Response.Headers["Idempotent-Replayed"] = "true";
        if (answer.Body is { Length: > 0 } body)
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>Runs the endpoint with its answer buffered, keeps a successful answer, and releases the key otherwise.</summary>
    private async Task RunAndKeepAsync(HttpContext context, IdempotentRequest request, IdempotencyClaim claim)
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
            await claim.Holder.ReleaseAsync(request, claim.Token);
            throw;
        }
        finally
        {
            context.Response.Body = original;
        }

        if (context.Response.StatusCode >= 400)
        {
            await claim.Holder.ReleaseAsync(request, claim.Token);
        }
        else
        {
            await claim.Holder.KeepAsync(request, claim.Token, new KeptAnswer(context.Response.StatusCode, context.Response.ContentType, buffer.ToArray()));
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

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
