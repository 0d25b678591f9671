using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Health;

namespace Apptork.Root.Platform.Hosting;

/// <summary>
/// <c>healthcheck</c>: asks the process running beside it (same settings, same host) whether it is live, for a
/// container image that has no shell or curl to do it (a Docker <c>HEALTHCHECK</c>). It reads only where that process
/// listens and builds no application host, so it costs a fraction of a second of CPU, not a second start of the app.
/// </summary>
public static class HealthCheckCommand
{
    public const string Name = "healthcheck";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>0 when <c>/healthz/live</c> answers 200; 1, with one line saying why, otherwise.</summary>
    public static async Task<int> RunAsync(string[] hostArgs)
    {
        var url = LiveUrl(ReadListeningSettings(hostArgs));
        using var client = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(url);
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync($"Unhealthy: {url} answered {(int)response.StatusCode}.");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"Unhealthy: {url} did not answer ({exception.Message}).");
        }

        return 1;
    }

    /// <summary>The settings the web host itself would read for its addresses, in its order of precedence.</summary>
    private static IConfiguration ReadListeningSettings(string[] hostArgs) =>
        new ConfigurationBuilder()
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddEnvironmentVariables()
            .AddCommandLine(hostArgs)
            .Build();

    /// <summary>
    /// The live probe on this host at the first address the process listens on: <c>Urls</c>, else the first of
    /// <c>HTTP_PORTS</c> (the .NET container images set it to 8080), else the role's default address.
    /// </summary>
    public static Uri LiveUrl(IConfiguration configuration)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        var httpPorts = configuration["http_ports"];
        string address;
        if (!string.IsNullOrWhiteSpace(urls))
        {
            address = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        }
        else if (!string.IsNullOrWhiteSpace(httpPorts))
        {
            address = $"http://127.0.0.1:{httpPorts.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0]}";
        }
        else
        {
            address = ProcessRoles.From(configuration).ServesApi() ? PlatformModule.DefaultUrl : PlatformModule.DefaultWorkerUrl;
        }

        return new Uri(new Uri(OnThisHost(address)), HealthEndpoints.LivePath);
    }

    /// <summary>A wildcard listening address (<c>0.0.0.0</c>, <c>*</c>, <c>+</c>, <c>[::]</c>) is reached on loopback.</summary>
    private static string OnThisHost(string address)
    {
        var hostStart = address.IndexOf("://", StringComparison.Ordinal) + 3;
        var hostEnd = address.LastIndexOf(':');
        if (hostEnd < hostStart)
        {
            hostEnd = address.Length;
        }

        var host = address[hostStart..hostEnd];
        return host is "0.0.0.0" or "*" or "+" or "[::]"
            ? $"{address[..hostStart]}127.0.0.1{address[hostEnd..]}"
            : address;
    }
}
