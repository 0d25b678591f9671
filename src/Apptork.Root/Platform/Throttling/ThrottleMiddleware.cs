using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.Observability;

namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// Applies the scopes an endpoint was given with <c>.Throttle(...)</c> before anything else of the request runs (body
/// binding, validation, the database), after authentication so the caller's user and role are known. Anonymous callers
/// are counted per client IP, signed-in ones per user id.
/// </summary>
/// <remarks>
/// Not ASP.NET Core's rate limiting middleware: it applies one policy per endpoint and shows a granted lease to nothing,
/// so it could neither count a group's scopes and the endpoint's own in order nor send the RateLimit headers on success.
/// </remarks>
public sealed class ThrottleMiddleware(RequestDelegate next, Throttler throttler, ErrorResponseWriter writer)
{
    private readonly ConditionalWeakTable<Endpoint, string[]> scopesByEndpoint = [];

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is not { } endpoint || ScopesOf(endpoint) is not { Length: > 0 } scopes)
        {
            await next(context);
            return;
        }

        var (role, partition) = Caller(context);
        List<ThrottleOutcome>? told = null;
        foreach (var scope in scopes)
        {
            if (await throttler.TryHitAsync(scope, role, partition, context.RequestAborted) is not { } outcome)
            {
                continue;
            }

            if (outcome.IsCounted)
            {
                (told ??= []).Add(outcome);
            }

            if (outcome.Refuses)
            {
                RootMetrics.RequestThrottled(scope);
                SendRateLimitHeaders(context, told);
                await writer.WriteAsync(context, outcome.ToException());
                return;
            }
        }

        SendRateLimitHeaders(context, told);
        await next(context);
    }

    /// <summary>The partition a caller is counted in, and the role that picks its rate.</summary>
    internal static (string Role, string Partition) Caller(HttpContext context)
    {
        if (context.User.Identity is ClaimsIdentity { IsAuthenticated: true, Name: { Length: > 0 } userId } identity)
        {
            return (identity.FindFirst(identity.RoleClaimType)?.Value ?? ThrottleRoles.Free, $"user:{userId}");
        }

        return (ThrottleRoles.Anonymous, $"ip:{ClientAddress.PartitionOf(context.Connection.RemoteIpAddress)}");
    }

    /// <summary>
    /// The endpoint's scopes in order (a route group's first), each once: worked out when the endpoint is first requested,
    /// not on every request, since an endpoint's metadata never changes.
    /// </summary>
    private string[] ScopesOf(Endpoint endpoint) => scopesByEndpoint.GetValue(endpoint, static endpoint =>
        [.. endpoint.Metadata.GetOrderedMetadata<ThrottleMetadata>().SelectMany(metadata => metadata.Scopes).Distinct(StringComparer.Ordinal)]);

    /// <summary>
    /// <c>RateLimit-Policy</c> and <c>RateLimit</c> (draft-ietf-httpapi-ratelimit-headers), one item per scope, on every
    /// response: an app can slow down before it is refused. Set as the response starts, because the exception handler
    /// clears headers set earlier.
    /// </summary>
    private static void SendRateLimitHeaders(HttpContext context, List<ThrottleOutcome>? outcomes)
    {
        if (outcomes is null)
        {
            return;
        }

        var headers = outcomes.Count == 1
            ? new RateLimitHeaders(context.Response, PolicyItem(outcomes[0]), StateItem(outcomes[0]))
            : new RateLimitHeaders(context.Response, string.Join(", ", outcomes.Select(PolicyItem)), string.Join(", ", outcomes.Select(StateItem)));
        context.Response.OnStarting(RateLimitHeaders.Send, headers);
    }

    private static string PolicyItem(ThrottleOutcome outcome) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{outcome.Scope}\";q={outcome.Rate.Limit};w={(long)outcome.Rate.Window.TotalSeconds}");

    private static string StateItem(ThrottleOutcome outcome) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{outcome.Scope}\";r={outcome.Remaining};t={outcome.ResetSeconds}");

    /// <summary>The two header values, and one callback shared by every request that writes them.</summary>
    private sealed record RateLimitHeaders(HttpResponse Response, string Policy, string State)
    {
        public static readonly Func<object, Task> Send = state =>
        {
            var headers = (RateLimitHeaders)state;
            headers.Response.Headers["RateLimit-Policy"] = headers.Policy;
            headers.Response.Headers["RateLimit"] = headers.State;
            return Task.CompletedTask;
        };
    }
}
