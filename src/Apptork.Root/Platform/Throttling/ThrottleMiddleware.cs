using System.Security.Claims;
using System.Text;
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
    public async Task InvokeAsync(HttpContext context)
    {
        var endpointScopes = context.GetEndpoint()?.Metadata.GetOrderedMetadata<ThrottleMetadata>();
        if (endpointScopes is not { Count: > 0 })
        {
            await next(context);
            return;
        }

        var (role, partition) = Caller(context);
        var told = new List<ThrottleOutcome>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scope in endpointScopes.SelectMany(metadata => metadata.Scopes))
        {
            if (!seen.Add(scope) || await throttler.TryHitAsync(scope, role, partition, context.RequestAborted) is not { } outcome)
            {
                continue;
            }

            if (outcome.IsCounted)
            {
                told.Add(outcome);
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
    /// <c>RateLimit-Policy</c> and <c>RateLimit</c> (draft-ietf-httpapi-ratelimit-headers), one item per scope, on every
    /// response: an app can slow down before it is refused. Set as the response starts, because the exception handler
    /// clears headers set earlier.
    /// </summary>
    private static void SendRateLimitHeaders(HttpContext context, List<ThrottleOutcome> outcomes)
    {
        if (outcomes.Count == 0)
        {
            return;
        }

        var policies = new StringBuilder();
        var states = new StringBuilder();
        foreach (var outcome in outcomes)
        {
            var separator = policies.Length == 0 ? string.Empty : ", ";
            policies.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{separator}\"{outcome.Scope}\";q={outcome.Rate.Limit};w={(long)outcome.Rate.Window.TotalSeconds}");
            states.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{separator}\"{outcome.Scope}\";r={outcome.Remaining};t={outcome.ResetSeconds}");
        }

        var policy = policies.ToString();
        var state = states.ToString();
        context.Response.OnStarting(() =>
        {
            context.Response.Headers["RateLimit-Policy"] = policy;
            context.Response.Headers["RateLimit"] = state;
            return Task.CompletedTask;
        });
    }
}
