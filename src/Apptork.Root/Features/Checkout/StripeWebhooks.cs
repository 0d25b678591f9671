using System.Text.Json;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Apptork.Root.Features.Checkout;

public enum WebhookOutcome
{
    Processed,
    Duplicate,
    /// <summary>An event type we do not act on, or one about a payment that is not ours: acknowledged, nothing done.</summary>
    Ignored,
}

/// <summary>
/// Verifies Stripe's webhook deliveries and turns the events that concern our payments into <see cref="PaymentFacts"/>
/// for <see cref="PaymentSettlement"/>. Nothing unverified is read, and nothing is acknowledged unprocessed: a delivery
/// we cannot process (an API version Stripe.net cannot read, the database away) is answered non-2xx so Stripe retries it.
/// </summary>
public sealed partial class StripeWebhooks(
    IOptions<PaymentsOptions> options, StripeGateway gateway, PaymentSettlement settlement, RootDbContext db, TimeProvider time,
    ILogger<StripeWebhooks> logger)
{
    public const string SignatureHeader = "Stripe-Signature";

    public async Task<WebhookOutcome> HandleAsync(string json, string? signature, CancellationToken cancellationToken)
    {
        var stripeEvent = Verify(json, signature);
        var (facts, reference) = Translate(stripeEvent);
        if (facts is null)
        {
            return WebhookOutcome.Ignored;
        }

        if (await ResolveAsync(reference, cancellationToken) is not { } paymentId)
        {
            LogNotOurs(logger, stripeEvent.Id, stripeEvent.Type);
            return WebhookOutcome.Ignored;
        }

        return await settlement.ApplyAsync(paymentId, facts, stripeEvent.Id, stripeEvent.Type, cancellationToken) == SettlementOutcome.Duplicate
            ? WebhookOutcome.Duplicate
            : WebhookOutcome.Processed;
    }

    private Stripe.Event Verify(string json, string? signature)
    {
        var stripe = options.Value.Stripe;
        try
        {
            if (string.IsNullOrWhiteSpace(signature))
            {
                throw new StripeException("No Stripe-Signature header.");
            }

            EventUtility.ValidateSignature(json, signature, stripe.WebhookSecret!, stripe.WebhookToleranceSeconds, time.GetUtcNow().ToUnixTimeSeconds());
        }
        catch (Exception exception) when (exception is StripeException or FormatException or OverflowException)
        {
            LogRefused(logger, exception.Message);
            throw ErrorCatalog.InvalidSignature.ToException();
        }

        if (!IsEventShaped(json))
        {
            // Signed by the secret yet no event: not Stripe's doing, and no retry would make it readable.
            LogRefused(logger, "the signed body is not an event with an id, a type and a data object.");
            throw ErrorCatalog.ParseError.ToException();
        }

        try
        {
            return EventUtility.ParseEvent(json, throwOnApiVersionMismatch: true);
        }
        catch (StripeException exception)
        {
            // Stripe.net reads only its own API version's objects; guessing at others could credit the wrong amounts. Stripe
            // retries the delivery for days, so the fix (the webhook endpoint's API version) loses nothing.
            LogApiVersionMismatch(logger, exception.Message, StripeConfiguration.ApiVersion);
            throw ErrorCatalog.WebhookApiVersionMismatch.ToException();
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException)
        {
            throw ErrorCatalog.ParseError.ToException();
        }
    }

    /// <summary>
    /// An object with an id, a type and a <c>data.object</c>: what <see cref="Translate"/> reads. Checked before Stripe.net
    /// parses it, which takes <c>{}</c> for an event of no API version and <c>[]</c> or a missing <c>data</c> for a crash.
    /// </summary>
    private static bool IsEventShaped(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                && root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("object", out var dataObject) && dataObject.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Where to find the payment: our id in the object's metadata, else the Stripe payment the object names.</summary>
    private sealed record PaymentReference(Guid? PaymentId, string? ProviderPaymentId);

    private static (PaymentFacts? Facts, PaymentReference Reference) Translate(Stripe.Event stripeEvent) => stripeEvent.Data.Object switch
    {
        Session session => (stripeEvent.Type switch
        {
            EventTypes.CheckoutSessionCompleted => new PaymentFacts(Paid: session.PaymentStatus == "paid", ProviderPaymentId: session.PaymentIntentId),
            EventTypes.CheckoutSessionAsyncPaymentSucceeded => new PaymentFacts(Paid: true, ProviderPaymentId: session.PaymentIntentId),
            EventTypes.CheckoutSessionAsyncPaymentFailed => new PaymentFacts(Failed: true, ProviderPaymentId: session.PaymentIntentId),
            EventTypes.CheckoutSessionExpired => new PaymentFacts(Expired: true),
            _ => null,
        }, new PaymentReference(StripeGateway.PaymentIdOf(session.Metadata) ?? ParseId(session.ClientReferenceId), session.PaymentIntentId)),
        PaymentIntent intent => (stripeEvent.Type switch
        {
            EventTypes.PaymentIntentSucceeded => new PaymentFacts(Paid: true, ProviderPaymentId: intent.Id),
            EventTypes.PaymentIntentPaymentFailed => new PaymentFacts(Failed: true, ProviderPaymentId: intent.Id),
            _ => null,
        }, new PaymentReference(StripeGateway.PaymentIdOf(intent.Metadata), intent.Id)),
        // A refunded or disputed charge was paid, whichever notification arrives first.
        Charge charge => (stripeEvent.Type == EventTypes.ChargeRefunded
            ? new PaymentFacts(Paid: true, AmountRefunded: charge.AmountRefunded, ProviderPaymentId: charge.PaymentIntentId)
            : null, new PaymentReference(StripeGateway.PaymentIdOf(charge.Metadata), charge.PaymentIntentId)),
        Dispute dispute => (stripeEvent.Type == EventTypes.ChargeDisputeClosed && dispute.Status == "lost"
            ? new PaymentFacts(Paid: true, AmountDisputedLost: dispute.Amount, ProviderPaymentId: dispute.PaymentIntentId)
            : null, new PaymentReference(StripeGateway.PaymentIdOf(dispute.Metadata), dispute.PaymentIntentId)),
        _ => (null, new PaymentReference(null, null)),
    };

    private async Task<Guid?> ResolveAsync(PaymentReference reference, CancellationToken cancellationToken)
    {
        if (reference.PaymentId is { } id)
        {
            return await db.Payments.AnyAsync(payment => payment.Id == id, cancellationToken) ? id : null;
        }

        if (reference.ProviderPaymentId is not { } providerPaymentId)
        {
            return null;
        }

        var known = await db.Payments.Where(payment => payment.ProviderPaymentId == providerPaymentId)
            .Select(payment => (Guid?)payment.Id).SingleOrDefaultAsync(cancellationToken);
        if (known is not null)
        {
            return known;
        }

        // A refund may arrive before the completed session that named the PaymentIntent: the intent's metadata says whose it is.
        try
        {
            var fromStripe = await gateway.FindPaymentIdAsync(providerPaymentId, cancellationToken);
            return fromStripe is { } found && await db.Payments.AnyAsync(payment => payment.Id == found, cancellationToken) ? found : null;
        }
        catch (StripeException exception) when (exception.HttpStatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static Guid? ParseId(string? text) => Guid.TryParse(text, out var id) ? id : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stripe event {EventId} ({EventType}) concerns no payment of ours; acknowledged without effect")]
    private static partial void LogNotOurs(ILogger logger, string eventId, string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A Stripe webhook delivery was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stripe webhook refused, to be retried by Stripe: {Reason} Set the webhook endpoint's API version to {ApiVersion} in Stripe's dashboard")]
    private static partial void LogApiVersionMismatch(ILogger logger, string reason, string apiVersion);
}
