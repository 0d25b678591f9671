using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Checkout;

/// <summary>Buys credit packs over HTTP as an app does, and delivers webhooks as Stripe does.</summary>
public sealed class CheckoutClient(RootApp app)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public HttpClient Http { get; } = app.Client();

    public async Task<HttpResponseMessage> StartAsync(string accessToken, string packId, string? flow = null, string? idempotencyKey = null, string? deviceId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout/sessions")
        {
            Content = JsonContent.Create(flow is null ? new Dictionary<string, string> { ["pack_id"] = packId } : new() { ["pack_id"] = packId, ["flow"] = flow }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        if (deviceId is not null)
        {
            request.Headers.Add("X-Device-Id", deviceId);
        }

        return await Http.SendAsync(request, Cancel);
    }

    public async Task<Session> StartOkAsync(string accessToken, string packId, string? flow = null, string? idempotencyKey = null, string? deviceId = null)
    {
        using var response = await StartAsync(accessToken, packId, flow, idempotencyKey, deviceId);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<Session>(TestJson.Options, Cancel))!;
    }

    public async Task<Session> GetAsync(string accessToken, Guid paymentId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/checkout/sessions/{paymentId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await Http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<Session>(TestJson.Options, Cancel))!;
    }

    /// <summary>POSTs a webhook body with the given Stripe-Signature header (none when null).</summary>
    public Task<HttpResponseMessage> DeliverAsync(string json, string? signature) => DeliverAsync(Http, json, signature, Cancel);

    /// <summary>A delivery as Stripe makes it, from any client (a child process's too).</summary>
    public static async Task<HttpResponseMessage> DeliverAsync(HttpClient http, string json, string? signature, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout/webhooks/stripe")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }

        return await http.SendAsync(request, cancellationToken);
    }

    /// <summary>Delivers a signed event and expects Stripe's delivery to be acknowledged with this outcome.</summary>
    public async Task DeliverOkAsync(LocalStripe stripe, StripeEvent stripeEvent, string outcome = "processed")
    {
        using var response = await DeliverAsync(stripeEvent.Json, await stripe.SignAsync(stripeEvent.Json));
        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        text.ShouldContain($"\"outcome\":\"{outcome}\"");
    }

    /// <summary>
    /// A development page button's URL for a client that posts no form: the action after the page's path, the buyer's
    /// token kept in the query.
    /// </summary>
    public static string PageAction(string? checkoutUrl, string action)
    {
        var page = new Uri(checkoutUrl!);
        return $"{page.GetLeftPart(UriPartial.Path)}/{action}{page.Query}";
    }

    /// <summary>The buyer's token in a development page's link, as its buttons post it back.</summary>
    public static string PageToken(string? checkoutUrl) => QueryHelpers.ParseQuery(new Uri(checkoutUrl!).Query)["token"].ToString();

    public sealed record Session(
        Guid Id, string PackId, long Credits, long Amount, string Currency, string Provider, string Flow, string Status, string? CheckoutUrl,
        string? ClientSecret, string? PublishableKey, long CreditsReversed);
}
