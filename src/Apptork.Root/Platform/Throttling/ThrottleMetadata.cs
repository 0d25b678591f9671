using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;

namespace Apptork.Root.Platform.Throttling;

/// <summary>Endpoint metadata: the throttling scopes that apply to it, in order (a route group's come first).</summary>
public sealed record ThrottleMetadata(IReadOnlyList<string> Scopes);

/// <summary>
/// Endpoint metadata: an API endpoint left out of every scope on purpose, and why (a provider's webhook, admitted by its
/// signature, whose deliveries a limit would only delay). Endpoints are throttled unless they say this.
/// </summary>
public sealed record ThrottleExemptMetadata(string Reason);

public static class ThrottleEndpointExtensions
{
    public static TBuilder ExemptFromThrottling<TBuilder>(this TBuilder builder, string reason)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ThrottleExemptMetadata(reason));

    /// <summary>
    /// Throttles the endpoint (or every endpoint of a group) in these scopes, each for the callers it has a rate for:
    /// <c>.Throttle(ThrottleScopes.Otp)</c>.
    /// </summary>
    public static TBuilder Throttle<TBuilder>(this TBuilder builder, params string[] scopes)
        where TBuilder : IEndpointConventionBuilder
    {
        if (scopes.Length == 0 || !scopes.All(ThrottleScopes.All.Contains))
        {
            throw new ArgumentException($"Throttle takes one or more of the scopes {string.Join(", ", ThrottleScopes.All)}.", nameof(scopes));
        }

        builder.WithMetadata(new ThrottleMetadata(scopes));
        return scopes.Any(ThrottleScopes.FailsClosed)
            ? builder.ProducesErrors(ErrorCatalog.Throttled, ErrorCatalog.ServiceUnavailable)
            : builder.ProducesErrors(ErrorCatalog.Throttled);
    }
}
