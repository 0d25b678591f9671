using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Platform.Networking;

/// <summary>
/// <c>ForwardedHeaders__KnownProxies__0=10.0.0.5</c>, <c>ForwardedHeaders__KnownNetworks__0=10.0.0.0/8</c>,
/// <c>ForwardedHeaders__ForwardLimit</c>: whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed.
/// </summary>
public sealed class TrustedProxiesOptions
{
    public const string Section = "ForwardedHeaders";

    public IList<string> KnownProxies { get; } = [];

    public IList<string> KnownNetworks { get; } = [];

    /// <summary>
    /// How many trusted hops are unwrapped from the right of <c>X-Forwarded-For</c>: one reverse proxy by default; a CDN in
    /// front of a load balancer is two. Unwrapping stops anyway at the first address that is not a trusted proxy.
    /// </summary>
    [Range(1, 10)]
    public int ForwardLimit { get; set; } = 1;
}
