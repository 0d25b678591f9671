using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>A signed event-stream URL opens one generation's stream, for its user, for a few minutes, without a header; nothing else.</summary>
public sealed class GenerationStreamUrlTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_signed_stream_url_opens_its_generations_stream_without_a_header_and_nothing_else()
    {
        await using var app = await StartAsync(streamUrlSeconds: 300);
        var owner = await new AuthClient(app).SignInAsync("streamer@example.com");
        await new WalletBooks(app).PostAsync(owner.User.Id, 10, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, owner.AccessToken);
        var watched = await client.CreateOkAsync("text", "watched from a browser");
        var other = await client.CreateOkAsync("text", "another one");

        var before = DateTimeOffset.UtcNow;
        var signed = await SignAsync(client, watched.Id);
        signed.ExpiresAt.ShouldBeInRange(before.AddSeconds(299), DateTimeOffset.UtcNow.AddSeconds(301));
        signed.StreamUrl.AbsolutePath.ShouldBe($"/api/v1/generations/{watched.Id}/events");
        var token = TokenOf(signed.StreamUrl);

        // As an EventSource opens it: a plain GET, no Authorization header.
        var events = await EventsAsync(app, signed.StreamUrl);
        events.Where(item => item.Generation is not null).Select(item => item.Generation!.Id).Distinct().ShouldBe([watched.Id]);
        events[^1].Generation!.Status.ShouldBe("succeeded");
        // The offline provider streams too, word by word.
        events.Count(item => item.Type == "delta").ShouldBeGreaterThan(1);
        GenerationClient.TextOf(events).ShouldBe(events[^1].Generation!.ResultText);

        await RefusedAsync(app, $"/api/v1/generations/{other.Id}/events?token={token}", HttpStatusCode.Forbidden, "invalid_stream_token");
        await RefusedAsync(app, $"/api/v1/generations/{watched.Id}/events?token={Tampered(token)}", HttpStatusCode.Forbidden, "invalid_stream_token");
        await RefusedAsync(app, $"/api/v1/generations/{watched.Id}/events?token=", HttpStatusCode.Forbidden, "invalid_stream_token");
        await RefusedAsync(app, $"/api/v1/generations/{watched.Id}/events?token=not*base64!", HttpStatusCode.Forbidden, "invalid_stream_token");

        // Not a bearer token: refused on every other endpoint, and on the stream itself when sent as one.
        foreach (var path in new[] { $"/api/v1/generations/{watched.Id}", "/api/v1/generations", "/api/v1/auth/me", $"/api/v1/generations/{watched.Id}/events" })
        {
            await RefusedAsync(app, path, HttpStatusCode.Unauthorized, "authentication_failed", bearer: token);
        }

        await RefusedAsync(app, $"/api/v1/generations/{watched.Id}/events", HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task Another_users_generation_gets_no_stream_url_and_a_token_for_it_opens_nothing()
    {
        await using var app = await StartAsync(streamUrlSeconds: 300);
        var owner = await new AuthClient(app).SignInAsync("owner@example.com");
        await new WalletBooks(app).PostAsync(owner.User.Id, 10, "grant", LedgerEntryKind.Adjustment);
        var owned = await new GenerationClient(app, owner.AccessToken).CreateOkAsync("text", "mine");
        var stranger = await new AuthClient(app).SignInAsync("stranger@example.com");

        using (var refused = await new GenerationClient(app, stranger.AccessToken).PostRawAsync($"/api/v1/generations/{owned.Id}/stream-url"))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        // Even a genuine token, had the server issued one to the stranger for it, is bound to its user: nothing to stream.
        var strangers = app.Services.GetRequiredService<GenerationStreamUrls>().Issue(stranger.User.Id, owned.Id);
        await RefusedAsync(app, $"/api/v1/generations/{owned.Id}/events?token={TokenOf(strangers.StreamUrl)}", HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task An_expired_stream_url_is_refused()
    {
        await using var app = await StartAsync(streamUrlSeconds: 1);
        var owner = await new AuthClient(app).SignInAsync("late@example.com");
        await new WalletBooks(app).PostAsync(owner.User.Id, 10, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, owner.AccessToken);
        var created = await client.CreateOkAsync("text", "too late");
        var signed = await SignAsync(client, created.Id);

        await Task.Delay(signed.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500), Cancel);
        await RefusedAsync(app, signed.StreamUrl.PathAndQuery, HttpStatusCode.Forbidden, "invalid_stream_token");
    }

    private Task<RootApp> StartAsync(int streamUrlSeconds) => RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?>
    {
        ["Throttling:Rates:user:free"] = "unlimited",
        ["Throttling:Rates:anon:anonymous"] = "unlimited",
        ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-generations-").FullName,
        ["Generation:StreamUrlSeconds"] = streamUrlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    private static async Task<SignedStream> SignAsync(GenerationClient client, Guid id)
    {
        using var response = await client.PostRawAsync($"/api/v1/generations/{id}/stream-url");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<SignedStream>(TestJson.Options, Cancel))!;
    }

    private static async Task<List<GenerationClient.StreamEvent>> EventsAsync(RootApp app, Uri streamUrl)
    {
        using var http = app.Client();
        using var response = await http.GetAsync(streamUrl, HttpCompletionOption.ResponseHeadersRead, Cancel);
        return await GenerationClient.ReadEventsAsync(response);
    }

    private static async Task RefusedAsync(RootApp app, string path, HttpStatusCode status, string code, string? bearer = null)
    {
        using var http = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await http.SendAsync(request, Cancel);
        await ErrorAssert.SingleAsync(response, status, "client_error", code);
    }

    private static string TokenOf(Uri streamUrl) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(streamUrl.Query)["token"].Single()!;

    /// <summary>One character of the middle changed: every bit of a protected payload is authenticated.</summary>
    private static string Tampered(string token)
    {
        var middle = token.Length / 2;
        return string.Concat(token.AsSpan(0, middle), token[middle] == 'A' ? "B" : "A", token.AsSpan(middle + 1));
    }

    private sealed record SignedStream(Uri StreamUrl, DateTimeOffset ExpiresAt);
}
