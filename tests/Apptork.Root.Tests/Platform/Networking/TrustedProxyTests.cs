using System.Net;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Apptork.Root.Tests.Platform.Throttling;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Networking;

/// <summary>
/// A real nginx on 127.0.0.2 in front of the application, clients on other loopback addresses: the application believes
/// <c>X-Forwarded-For</c> from the configured proxy only, so neither a direct client nor one behind the proxy can choose
/// the address it is limited as.
/// </summary>
public sealed class TrustedProxyTests(PostgresServer postgres)
{
    private const string WhoAmI = "/api/v1/auth/whoami";
    private const string Address = "/__throttle/address";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_client_behind_the_trusted_proxy_is_seen_as_itself_and_a_forged_header_changes_nothing()
    {
        await using var app = await StartAsync(trustProxy: true);
        await using var proxy = await NginxProxy.StartAsync(app.Client().BaseAddress!);
        using var throughProxy = ClientFrom.Address("127.0.0.3", proxy.BaseAddress);
        using var direct = ClientFrom.Address("127.0.0.3", app.Client().BaseAddress!);

        (await AddressSeenAsync(throughProxy)).ShouldBe("127.0.0.3");
        (await AddressSeenAsync(throughProxy, forwardedFor: "1.2.3.4")).ShouldBe("127.0.0.3", "nginx appends the real address, and only the last hop is the proxy's word");
        (await AddressSeenAsync(direct, forwardedFor: "1.2.3.4")).ShouldBe("127.0.0.3", "a client is not a trusted proxy");
    }

    [Fact]
    public async Task Without_configured_proxies_not_even_loopback_is_believed()
    {
        await using var app = await StartAsync(trustProxy: false);
        await using var proxy = await NginxProxy.StartAsync(app.Client().BaseAddress!);
        using var throughProxy = ClientFrom.Address("127.0.0.3", proxy.BaseAddress);

        (await AddressSeenAsync(app.Client(), forwardedFor: "1.2.3.4")).ShouldBe("127.0.0.1");
        (await AddressSeenAsync(throughProxy)).ShouldBe(NginxProxy.Address.ToString());
    }

    [Fact]
    public async Task Clients_behind_the_proxy_are_limited_apart_and_together_with_their_direct_connections()
    {
        await using var app = await StartAsync(trustProxy: true);
        await using var proxy = await NginxProxy.StartAsync(app.Client().BaseAddress!);
        using var first = ClientFrom.Address("127.0.0.3", proxy.BaseAddress);
        using var second = ClientFrom.Address("127.0.0.4", proxy.BaseAddress);
        using var secondDirect = ClientFrom.Address("127.0.0.4", app.Client().BaseAddress!);

        (await StatusesAsync(first, 4)).ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests]);
        (await StatusesAsync(second, 3)).ShouldAllBe(status => status == HttpStatusCode.OK, "another machine behind the same proxy has its own limit");
        (await StatusesAsync(secondDirect, 1)).ShouldBe([HttpStatusCode.TooManyRequests], "the same machine, connecting directly, is the same partition");
    }

    [Fact]
    public async Task A_client_cannot_escape_its_limit_by_rotating_x_forwarded_for()
    {
        await using var app = await StartAsync(trustProxy: true);
        await using var proxy = await NginxProxy.StartAsync(app.Client().BaseAddress!);
        using var direct = ClientFrom.Address("127.0.0.5", app.Client().BaseAddress!);
        using var throughProxy = ClientFrom.Address("127.0.0.6", proxy.BaseAddress);

        (await StatusesAsync(direct, 6, rotateForwardedFor: true)).Count(status => status == HttpStatusCode.OK).ShouldBe(3);
        (await StatusesAsync(throughProxy, 6, rotateForwardedFor: true)).Count(status => status == HttpStatusCode.OK).ShouldBe(3);
    }

    private async Task<RootApp> StartAsync(bool trustProxy)
    {
        var settings = new Dictionary<string, string?> { ["Throttling:Rates:anon:anonymous"] = "3/minute" };
        if (trustProxy)
        {
            settings["ForwardedHeaders:KnownProxies:0"] = NginxProxy.Address.ToString();
        }

        return await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, settings, ThrottleProbe.Extensions());
    }

    private static async Task<string> AddressSeenAsync(HttpClient client, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Address);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        using var response = await client.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync(Cancel);
    }

    private static async Task<List<HttpStatusCode>> StatusesAsync(HttpClient client, int count, bool rotateForwardedFor = false)
    {
        var statuses = new List<HttpStatusCode>();
        for (var index = 0; index < count; index++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, WhoAmI);
            if (rotateForwardedFor)
            {
                request.Headers.Add("X-Forwarded-For", $"198.51.100.{index + 1}");
            }

            using var response = await client.SendAsync(request, Cancel);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }
}
