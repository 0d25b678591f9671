using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;

namespace Apptork.Root.Platform.Throttling;

/// <summary>Endpoint metadata: the throttling scopes that apply to it, in order (a route group's come first).</summary>
/// <param name="Errors">The refusals these scopes can answer with, as declared for the OpenAPI document.</param>
public sealed record ThrottleMetadata(IReadOnlyList<string> Scopes, ApiErrorsMetadata Errors);

/// <summary>
/// Endpoint metadata: an API endpoint left out of every scope on purpose, and why (a provider's webhook, admitted by its
/// signature, whose deliveries a limit would only delay). Endpoints are throttled unless they say this.
/// </summary>
public sealed record ThrottleExemptMetadata(string Reason);

public static class ThrottleEndpointExtensions
{
    /// <summary>
    /// Leaves the endpoint (or every endpoint of a group) out of every scope, those of its route groups included, and says
    /// why: <c>.ExemptFromThrottling("signed by the provider; a refused delivery only comes back later")</c>.
    /// </summary>
    public static TBuilder ExemptFromThrottling<TBuilder>(this TBuilder builder, string reason)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        builder.WithMetadata(new ThrottleExemptMetadata(reason));
        // Finally conventions run after every other one, the groups' included, so no scope given anywhere survives it.
        builder.Finally(endpoint =>
        {
            foreach (var scopes in endpoint.Metadata.OfType<ThrottleMetadata>().ToList())
            {
                endpoint.Metadata.Remove(scopes);
                endpoint.Metadata.Remove(scopes.Errors);
            }
        });
        return builder;
    }

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

        var errors = new ApiErrorsMetadata(scopes.Any(ThrottleScopes.FailsClosed)
            ? [ErrorCatalog.Throttled, ErrorCatalog.ServiceUnavailable]
            : [ErrorCatalog.Throttled]);
        return builder.WithMetadata(new ThrottleMetadata(scopes, errors), errors);
    }
}
