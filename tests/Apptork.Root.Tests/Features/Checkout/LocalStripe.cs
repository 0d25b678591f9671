using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Apptork.Root.Tests.Features.Checkout;

/// <summary>
/// Stripe as the application meets it: a local Kestrel server answering the API calls Stripe.net makes (Checkout
/// Sessions, PaymentIntents, refunds) in Stripe's form-encoded request and JSON object shapes, and the events Stripe would send
/// about them, signed by the stripe npm package's own helper (tests/peers/stripe-sign.mjs).
/// </summary>
public sealed class LocalStripe : IAsyncDisposable
{
    public const string SecretKey = "sk_test_apptork_local";
    public const string SuccessUrl = "https://app.example.com/checkout/done";

    private readonly WebApplication host;
    private readonly ConcurrentDictionary<string, JsonObject> intents = new();
    private readonly ConcurrentDictionary<string, JsonObject> sessionsByIdempotencyKey = new();
    private readonly ConcurrentDictionary<string, JsonObject> refundsByIdempotencyKey = new();

    private LocalStripe()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        host = builder.Build();
        host.MapPost("/v1/checkout/sessions", (Delegate)CreateSessionAsync);
        host.MapPost("/v1/payment_intents", (Delegate)CreateIntentAsync);
        host.MapPost("/v1/refunds", (Delegate)CreateRefundAsync);
        host.MapGet("/v1/payment_intents/{id}", (string id, HttpContext context) => Authorized(context)
            ? intents.TryGetValue(id, out var intent) ? Results.Json(intent) : StripeError(404, "resource_missing", $"No such payment_intent: '{id}'")
            : StripeError(401, "api_key_invalid", "Invalid API Key provided."));
    }

    public string WebhookSecret { get; } = $"whsec_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}";

    public string ApiBase { get; private set; } = null!;

    /// <summary>How many refund requests to come are answered with an API error, as Stripe does when it is having trouble.</summary>
    public int RefundFailures { get; set; }

    /// <summary>While set, Checkout Session requests (once recorded) wait for it to complete: a Stripe slow to answer.</summary>
    public TaskCompletionSource? HeldSessions { get; set; }

    /// <summary>Every request Stripe received: path, form fields, and the Idempotency-Key header.</summary>
    public ConcurrentQueue<(string Path, IReadOnlyDictionary<string, string> Form, string? IdempotencyKey)> Requests { get; } = new();

    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Payments:Provider"] = "Stripe",
        ["Payments:Stripe:SecretKey"] = SecretKey,
        ["Payments:Stripe:WebhookSecret"] = WebhookSecret,
        ["Payments:Stripe:PublishableKey"] = "pk_test_apptork_local",
        ["Payments:Stripe:ApiBase"] = ApiBase,
        ["Payments:Stripe:SuccessUrl"] = SuccessUrl,
    };

    public static async Task<LocalStripe> StartAsync()
    {
        var stripe = new LocalStripe();
        await stripe.host.StartAsync();
        stripe.ApiBase = stripe.host.Urls.Single();
        return stripe;
    }

    /// <summary>Stripe's own behaviour when the payment is made: the PaymentIntent that a completed session names.</summary>
    public string CreateIntentFor(Guid paymentId)
    {
        var id = NewId("pi");
        intents[id] = new JsonObject { ["id"] = id, ["object"] = "payment_intent", ["metadata"] = Metadata(paymentId) };
        return id;
    }

    public static StripeEvent SessionCompleted(string sessionId, Guid paymentId, string paymentIntentId, string paymentStatus = "paid") =>
        StripeEvent.Of("checkout.session.completed", new JsonObject
        {
            ["id"] = sessionId, ["object"] = "checkout.session", ["mode"] = "payment", ["payment_status"] = paymentStatus,
            ["payment_intent"] = paymentIntentId, ["client_reference_id"] = paymentId.ToString(), ["metadata"] = Metadata(paymentId),
        });

    public static StripeEvent SessionExpired(string sessionId, Guid paymentId) =>
        StripeEvent.Of("checkout.session.expired", new JsonObject
        {
            ["id"] = sessionId, ["object"] = "checkout.session", ["payment_status"] = "unpaid", ["metadata"] = Metadata(paymentId),
        });

    public static StripeEvent IntentSucceeded(string paymentIntentId, Guid paymentId) => IntentEvent("payment_intent.succeeded", paymentIntentId, paymentId);

    public static StripeEvent IntentFailed(string paymentIntentId, Guid paymentId) => IntentEvent("payment_intent.payment_failed", paymentIntentId, paymentId);

    /// <summary>A charge refunded, <paramref name="amountRefunded"/> being the cumulative amount, as Stripe reports it; charges carry no metadata of ours.</summary>
    public static StripeEvent ChargeRefunded(string paymentIntentId, long amount, long amountRefunded) =>
        StripeEvent.Of("charge.refunded", new JsonObject
        {
            ["id"] = NewId("ch"), ["object"] = "charge", ["amount"] = amount, ["amount_refunded"] = amountRefunded, ["paid"] = true,
            ["refunded"] = amountRefunded >= amount, ["payment_intent"] = paymentIntentId, ["metadata"] = new JsonObject(),
        });

    public static StripeEvent DisputeClosed(string paymentIntentId, long amount, string status) =>
        StripeEvent.Of("charge.dispute.closed", new JsonObject
        {
            ["id"] = NewId("dp"), ["object"] = "dispute", ["amount"] = amount, ["status"] = status, ["charge"] = NewId("ch"),
            ["payment_intent"] = paymentIntentId, ["metadata"] = new JsonObject(),
        });

    /// <summary>Stripe-Signature headers for the payloads, made by the stripe npm package (one Node run for all of them).</summary>
    public async Task<IReadOnlyList<string>> SignAsync(IReadOnlyList<string> payloads, DateTimeOffset? at = null, string? secret = null)
    {
        var node = ServerHost.RequireExecutable("node", "the stripe signing peer");
        var script = ServerHost.RequireFile(Path.Combine(ServerHost.FindRepositoryRoot(), "tests", "peers", "stripe-sign.mjs"), "the stripe signing peer");
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var input = new JsonArray(payloads.Select(payload =>
            (JsonNode)new JsonObject { ["payload"] = payload, ["secret"] = secret ?? WebhookSecret, ["timestamp"] = timestamp }).ToArray());
        using var process = Process.Start(new ProcessStartInfo(node, [script])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        await process.StandardInput.WriteAsync(input.ToJsonString());
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return process.ExitCode == 0
            ? JsonSerializer.Deserialize<string[]>(output)!
            : throw new InvalidOperationException($"stripe-sign.mjs failed with exit code {process.ExitCode}: {errors}");
    }

    public async Task<string> SignAsync(string payload, DateTimeOffset? at = null, string? secret = null) => (await SignAsync([payload], at, secret))[0];

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    private static StripeEvent IntentEvent(string type, string paymentIntentId, Guid paymentId) =>
        StripeEvent.Of(type, new JsonObject
        {
            ["id"] = paymentIntentId, ["object"] = "payment_intent", ["status"] = type.EndsWith("succeeded", StringComparison.Ordinal) ? "succeeded" : "requires_payment_method",
            ["metadata"] = Metadata(paymentId),
        });

    private async Task<IResult> CreateSessionAsync(HttpContext context)
    {
        var (form, key) = await RecordAsync(context);
        if (!Authorized(context))
        {
            return StripeError(401, "api_key_invalid", "Invalid API Key provided.");
        }

        if (HeldSessions is { } held)
        {
            await held.Task;
        }

        // Stripe answers a repeated Idempotency-Key with the first result.
        var session = sessionsByIdempotencyKey.GetOrAdd(key ?? Guid.NewGuid().ToString(), _ =>
        {
            var id = NewId("cs_test");
            return new JsonObject
            {
                ["id"] = id, ["object"] = "checkout.session", ["mode"] = form.GetValueOrDefault("mode"), ["payment_status"] = "unpaid",
                ["url"] = $"https://checkout.stripe.com/c/pay/{id}", ["payment_intent"] = null, ["client_reference_id"] = form.GetValueOrDefault("client_reference_id"),
                ["metadata"] = new JsonObject { ["apptork_payment_id"] = form.GetValueOrDefault("metadata[apptork_payment_id]") },
            };
        });
        return Results.Json(session);
    }

    private async Task<IResult> CreateIntentAsync(HttpContext context)
    {
        var (form, _) = await RecordAsync(context);
        if (!Authorized(context))
        {
            return StripeError(401, "api_key_invalid", "Invalid API Key provided.");
        }

        var id = NewId("pi");
        var intent = new JsonObject
        {
            ["id"] = id, ["object"] = "payment_intent", ["amount"] = long.Parse(form["amount"], System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = form["currency"], ["client_secret"] = $"{id}_secret_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}",
            ["status"] = "requires_payment_method",
            ["metadata"] = new JsonObject { ["apptork_payment_id"] = form.GetValueOrDefault("metadata[apptork_payment_id]") },
        };
        intents[id] = intent;
        return Results.Json(intent);
    }

    /// <summary>A refund of a PaymentIntent, the same one again for a repeated Idempotency-Key, as Stripe answers.</summary>
    private async Task<IResult> CreateRefundAsync(HttpContext context)
    {
        var (form, key) = await RecordAsync(context);
        if (!Authorized(context))
        {
            return StripeError(401, "api_key_invalid", "Invalid API Key provided.");
        }

        if (RefundFailures > 0)
        {
            RefundFailures--;
            return Results.Json(new JsonObject { ["error"] = new JsonObject { ["type"] = "api_error", ["message"] = "An error occurred with our connection to Stripe." } }, statusCode: 500);
        }

        var refund = refundsByIdempotencyKey.GetOrAdd(key ?? Guid.NewGuid().ToString(), _ => new JsonObject
        {
            ["id"] = NewId("re"), ["object"] = "refund", ["amount"] = long.Parse(form["amount"], System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = "usd", ["payment_intent"] = form.GetValueOrDefault("payment_intent"), ["charge"] = NewId("ch"), ["status"] = "succeeded",
            ["metadata"] = new JsonObject { ["apptork_payment_id"] = form.GetValueOrDefault("metadata[apptork_payment_id]") },
        });
        return Results.Json(refund);
    }

    private async Task<(Dictionary<string, string> Form, string? IdempotencyKey)> RecordAsync(HttpContext context)
    {
        var form = (await context.Request.ReadFormAsync()).ToDictionary(field => field.Key, field => field.Value.ToString());
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        Requests.Enqueue((context.Request.Path, form, string.IsNullOrEmpty(key) ? null : key));
        return (form, string.IsNullOrEmpty(key) ? null : key);
    }

    private static bool Authorized(HttpContext context) => context.Request.Headers.Authorization.ToString() == $"Bearer {SecretKey}";

    private static IResult StripeError(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["type"] = "invalid_request_error", ["code"] = code, ["message"] = message } }, statusCode: status);

    private static JsonObject Metadata(Guid paymentId) => new() { ["apptork_payment_id"] = paymentId.ToString() };

    private static string NewId(string prefix) => $"{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
}

/// <summary>A Stripe event as delivered: its id, and the exact JSON Stripe signs.</summary>
public sealed record StripeEvent(string Id, string Json)
{
    /// <summary>An event of the API version Stripe.net is pinned to, unless the test says otherwise.</summary>
    public static StripeEvent Of(string type, JsonObject data, string? apiVersion = null)
    {
        var id = $"evt_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        var json = new JsonObject
        {
            ["id"] = id, ["object"] = "event", ["api_version"] = apiVersion ?? Stripe.StripeConfiguration.ApiVersion,
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["livemode"] = false, ["pending_webhooks"] = 1, ["type"] = type,
            ["data"] = new JsonObject { ["object"] = data },
        };
        return new StripeEvent(id, json.ToJsonString());
    }
}
