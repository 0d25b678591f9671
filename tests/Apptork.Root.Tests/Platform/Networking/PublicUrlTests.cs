using System.Net;
using System.Net.Http.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Features.Files;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Networking;

/// <summary>
/// The links the API hands out start with <c>Http__PublicBaseUrl</c>, never with the <c>Host</c> a client sent, and a
/// request naming a host that is not the API's is refused, except by the health probes a load balancer sends by IP.
/// </summary>
public sealed class PublicUrlTests(PostgresServer postgres)
{
    private const string PublicBaseUrl = "https://api.example.com";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Signed_links_start_with_the_public_base_url_and_a_foreign_host_gets_none()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?>
        {
            ["Http:PublicBaseUrl"] = PublicBaseUrl,
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-public-urls-").FullName,
        });
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("links@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 10, "grant", LedgerEntryKind.Adjustment);

        var upload = await FileUploads.SignAsync(auth, signedIn.AccessToken, "notes.txt", "text/plain", 5);
        upload.UploadUrl.AbsoluteUri.ShouldStartWith($"{PublicBaseUrl}/files/local/");
        var session = await new CheckoutClient(app).StartOkAsync(signedIn.AccessToken, "starter");
        session.CheckoutUrl.ShouldStartWith($"{PublicBaseUrl}/");
        var generation = await new GenerationClient(app, signedIn.AccessToken).CreateOkAsync("text", "a link");
        using (var streamUrl = await new GenerationClient(app, signedIn.AccessToken).PostRawAsync($"/api/v1/generations/{generation.Id}/stream-url"))
        {
            (await streamUrl.Content.ReadFromJsonAsync<SignedStream>(TestJson.Options, Cancel))!.StreamUrl.AbsoluteUri
                .ShouldStartWith($"{PublicBaseUrl}/api/v1/generations/{generation.Id}/events?token=");
        }

        // The same request naming another host signs nothing: the host is refused before any endpoint runs.
        using var http = app.Client();
        using var foreign = new HttpRequestMessage(HttpMethod.Post, "/api/v1/files/uploads")
        {
            Content = JsonContent.Create(new { filename = "notes.txt", content_type = "text/plain", size = 5 }),
        };
        foreign.Headers.Host = "evil.example";
        foreign.Headers.Authorization = new("Bearer", signedIn.AccessToken);
        using var refused = await http.SendAsync(foreign, Cancel);
        await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "client_error", "client_error");
    }

    [Fact]
    public async Task In_production_only_the_public_host_is_served_and_health_probes_answer_whatever_host_they_name()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        using var http = app.Client();

        foreach (var host in new[] { "evil.example", "localhost", "10.0.0.7" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/whoami");
            request.Headers.Host = host;
            using var refused = await http.SendAsync(request, Cancel);
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "client_error", "client_error");
        }

        using (var served = await http.GetAsync("/api/v1/auth/whoami", Cancel))
        {
            served.StatusCode.ShouldBe(HttpStatusCode.OK, "the test client calls the API by its public host");
        }

        foreach (var probe in new[] { "/healthz/live", "/healthz/ready" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, probe);
            request.Headers.Host = "10.0.0.7";
            using var answered = await http.SendAsync(request, Cancel);
            answered.StatusCode.ShouldBe(HttpStatusCode.OK, probe);
        }
    }

    private sealed record SignedStream(Uri StreamUrl, DateTimeOffset ExpiresAt);
}
