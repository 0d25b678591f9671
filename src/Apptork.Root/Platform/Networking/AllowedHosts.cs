using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Health;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Networking;

/// <summary>
/// The hosts a request may name in <c>Host</c>, enforced by ASP.NET Core's host filtering: the public base URL's host in
/// the production shape; loopback names (and the public base URL's host, if set) in the embedded shape. Any other host
/// is answered 400 before it reaches an endpoint.
/// </summary>
public static class AllowedHosts
{
    public static readonly IReadOnlyList<string> LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    public static IReadOnlyList<string> For(RuntimeShape shape, PublicUrlOptions options)
    {
        if (options.BaseUri is not { } url)
        {
            return LoopbackNames;
        }

        return shape.IsProduction ? [HostOf(url)] : [.. LoopbackNames, HostOf(url)];
    }

    /// <summary>
    /// Filters every request except the health probes and the health page: a load balancer probes by the instance's IP
    /// address, and they hand out no link, so the host they are called by is harmless. Placed after the status-code pages, so that
    /// the refusal is written in the standard payload, and after the trusted proxies, whose <c>Host</c> is the client's
    /// (<c>X-Forwarded-Host</c> is never believed).
    /// </summary>
    public static IApplicationBuilder UseAllowedHosts(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        // Read when the first request is filtered, not here: a command that serves nothing (migrate) does not need the setting.
        var filtering = new Lazy<HostFilteringOptions>(() => new HostFilteringOptions
        {
            AllowedHosts = [.. For(services.GetRequiredService<RuntimeShape>(), services.GetRequiredService<IOptions<PublicUrlOptions>>().Value)],
            // No HTML body: the status-code pages write the standard payload instead.
            IncludeFailureMessage = false,
        });
        var healthPage = new Lazy<HealthPage>(services.GetRequiredService<HealthPage>);
        // Its own options, not the framework's global AllowedHosts (which its default pipeline applies to every path, probes included).
        return app.UseWhen(
            context => !context.Request.Path.StartsWithSegments(HealthEndpoints.PathPrefix, StringComparison.OrdinalIgnoreCase) && !healthPage.Value.Serves(context),
            branch => branch.UseMiddleware<HostFilteringMiddleware>(new FixedOptions(filtering)));
    }

    private static string HostOf(Uri url) => url.HostNameType == UriHostNameType.IPv6 ? $"[{url.IdnHost.Trim('[', ']')}]" : url.IdnHost;

    private sealed class FixedOptions(Lazy<HostFilteringOptions> value) : IOptionsMonitor<HostFilteringOptions>
    {
        public HostFilteringOptions CurrentValue => value.Value;

        public HostFilteringOptions Get(string? name) => value.Value;

        public IDisposable? OnChange(Action<HostFilteringOptions, string?> listener) => null;
    }
}
