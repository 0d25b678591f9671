using System.Net;
using Apptork.Root.Platform.Configuration;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Networking;

public static class TrustedProxies
{
    /// <summary>
    /// Believes forwarding headers only from the configured proxies. ASP.NET Core trusts loopback by default; that list is
    /// cleared, so with nothing configured no <c>X-Forwarded-For</c> changes the client address, whoever sends it.
    /// </summary>
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<TrustedProxiesOptions>(TrustedProxiesOptions.Section);
        var settings = configuration.GetSection(TrustedProxiesOptions.Section).Get<TrustedProxiesOptions>() ?? new TrustedProxiesOptions();
        var proxies = settings.KnownProxies.Select((text, index) => ParseProxy(text, index)).ToList();
        var networks = settings.KnownNetworks.Select((text, index) => ParseNetwork(text, index)).ToList();
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = settings.ForwardLimit;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(proxy);
            }

            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
        return services;
    }

    /// <summary>
    /// Applies the trusted proxies' headers, first in the pipeline. With no proxy configured the middleware is left out:
    /// given empty lists it would believe every sender, which is the opposite of what an empty list means here.
    /// </summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        return options.KnownProxies.Count == 0 && options.KnownIPNetworks.Count == 0 ? app : app.UseForwardedHeaders();
    }

    private static IPAddress ParseProxy(string text, int index) =>
        IPAddress.TryParse(text.Trim(), out var address)
            ? address
            : throw new StartupConfigurationException($"{TrustedProxiesOptions.Section}__KnownProxies__{index}", $"is '{text}', not an IP address (e.g. 10.0.0.5).");

    private static System.Net.IPNetwork ParseNetwork(string text, int index) =>
        System.Net.IPNetwork.TryParse(text.Trim(), out var network)
            ? network
            : throw new StartupConfigurationException($"{TrustedProxiesOptions.Section}__KnownNetworks__{index}", $"is '{text}', not a network in CIDR notation (e.g. 10.0.0.0/8).");
}
