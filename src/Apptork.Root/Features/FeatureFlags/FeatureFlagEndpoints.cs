using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>The flags as the calling app gets them, polled by apps at every foreground.</summary>
public static class FeatureFlagEndpoints
{
    public const string Tag = "Feature flags";

    public static RouteGroupBuilder MapFeatureFlagEndpoints(this RouteGroupBuilder flags)
    {
        flags.WithTags(Tag);
        flags.MapGet(string.Empty, GetAsync)
            .Produces(StatusCodes.Status304NotModified)
            .WithName("feature_flags_get").WithSummary("Get the feature flags")
            .WithDescription(
                "Every flag as it applies to this caller (signed in or not), by key. Send `X-Platform`, `X-App-Version` and, signed out, "
                + "`X-Device-Id`: rules and rollouts depend on them. Answers an `ETag`; send it back in `If-None-Match` to get 304 while nothing changed for you.");
        return flags;
    }

    private static async Task<Results<Ok<FeatureFlagsView>, StatusCodeHttpResult>> GetAsync(
        HttpContext context, FeatureGates gates, CancellationToken cancellationToken)
    {
        var (flags, etag) = await gates.EvaluateAllAsync(FlagCaller.From(context), cancellationToken);
        context.Response.Headers.ETag = etag;
        // Private: the answer depends on the caller (token, headers); a shared cache must not hand it to another.
        context.Response.Headers.CacheControl = "private, no-cache";
        // An app sends back the very tag it got: compared as text first, parsed only when it is something else.
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        return (ifNoneMatch.Count == 1 && ifNoneMatch[0] == etag)
            || (context.Request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } tags
                && tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(new EntityTagHeaderValue(etag), useStrongComparison: false)))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(new FeatureFlagsView(flags));
    }
}

/// <param name="Flags">Every known flag, on (true) or off (false) for this caller.</param>
public sealed record FeatureFlagsView(IReadOnlyDictionary<string, bool> Flags);
