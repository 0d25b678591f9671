using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Apptork.Root.Features.Checkout;

/// <summary>What the client needs to pay: a page to open, or a secret for a native payment sheet.</summary>
public sealed record PaymentStart(string? ProviderSessionId, string? ProviderPaymentId, string? CheckoutUrl, string? ClientSecret);

/// <summary>Starts a payment at the configured provider.</summary>
public interface IPaymentGateway
{
    Task<PaymentStart> StartAsync(Payment payment, string packName, CancellationToken cancellationToken);
}

/// <summary>
/// Stripe through Stripe.net, with a client of our own (no static <c>StripeConfiguration.ApiKey</c>): the key and the API
/// base come from settings, and the HTTP client from the factory, so tests point it at a local Stripe.
/// </summary>
public sealed class StripeGateway(IHttpClientFactory httpClients, IOptions<PaymentsOptions> options) : IPaymentGateway
{
    public const string HttpClientName = "stripe";

    /// <summary>Set on every Stripe object we create, so any notification can be traced back to its payment.</summary>
    public const string PaymentIdMetadataKey = "apptork_payment_id";

    public async Task<PaymentStart> StartAsync(Payment payment, string packName, CancellationToken cancellationToken)
    {
        var client = Client();
        var metadata = new Dictionary<string, string> { [PaymentIdMetadataKey] = payment.Id.ToString() };
        // The payment's id as Stripe's idempotency key: a retry after a lost answer returns the same session, never a second one.
        var request = new RequestOptions { IdempotencyKey = $"apptork-payment-{payment.Id:N}" };
        if (payment.Flow == PaymentFlow.PaymentSheet)
        {
            var intent = await new PaymentIntentService(client).CreateAsync(new PaymentIntentCreateOptions
            {
                Amount = payment.Amount,
                Currency = payment.Currency,
                Description = packName,
                Metadata = metadata,
                AutomaticPaymentMethods = new PaymentIntentAutomaticPaymentMethodsOptions { Enabled = true },
            }, request, cancellationToken);
            return new PaymentStart(null, intent.Id, null, intent.ClientSecret);
        }

        var stripe = options.Value.Stripe;
        var session = await new SessionService(client).CreateAsync(new SessionCreateOptions
        {
            Mode = "payment",
            ClientReferenceId = payment.Id.ToString(),
            Metadata = metadata,
            PaymentIntentData = new SessionPaymentIntentDataOptions { Metadata = metadata },
            SuccessUrl = stripe.SuccessUrl,
            CancelUrl = string.IsNullOrEmpty(stripe.CancelUrl) ? stripe.SuccessUrl : stripe.CancelUrl,
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = payment.Currency,
                        UnitAmount = payment.Amount,
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = packName },
                    },
                },
            ],
        }, request, cancellationToken);
        return new PaymentStart(session.Id, session.PaymentIntentId, session.Url, null);
    }

    /// <summary>
    /// Returns <paramref name="amount"/> (minor units) of a paid PaymentIntent to the payer (<c>POST /v1/refunds</c>); the
    /// refund's id. The idempotency key makes a retry after a lost answer return the same refund, never a second one.
    /// </summary>
    public async Task<string> RefundAsync(string paymentIntentId, long amount, Guid paymentId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var refund = await new RefundService(Client()).CreateAsync(new RefundCreateOptions
        {
            PaymentIntent = paymentIntentId,
            Amount = amount,
            Metadata = new Dictionary<string, string> { [PaymentIdMetadataKey] = paymentId.ToString() },
        }, new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
        return refund.Id;
    }

    /// <summary>The payment a Stripe PaymentIntent was made for, from its metadata; null when it is not one of ours.</summary>
    public async Task<Guid?> FindPaymentIdAsync(string paymentIntentId, CancellationToken cancellationToken)
    {
        var intent = await new PaymentIntentService(Client()).GetAsync(paymentIntentId, cancellationToken: cancellationToken);
        return PaymentIdOf(intent.Metadata);
    }

    public static Guid? PaymentIdOf(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(PaymentIdMetadataKey, out var text) && Guid.TryParse(text, out var id) ? id : null;

    private StripeClient Client()
    {
        var stripe = options.Value.Stripe;
        return new StripeClient(new StripeClientOptions
        {
            ApiKey = stripe.SecretKey,
            ApiBase = stripe.ApiBase,
            HttpClient = new SystemNetHttpClient(httpClients.CreateClient(HttpClientName)),
        });
    }
}

/// <summary>
/// The embedded shape's stand-in for a card form: a local page that says plainly that it is one, where the developer
/// confirms or declines the payment (<see cref="DevelopmentPaymentPage"/>). Refused at start in production. Its link
/// carries the buyer's token, so only the buyer can open the page.
/// </summary>
public sealed class DevelopmentGateway(DevelopmentPaymentLinks links) : IPaymentGateway
{
    public Task<PaymentStart> StartAsync(Payment payment, string packName, CancellationToken cancellationToken) =>
        Task.FromResult(new PaymentStart($"dev_{payment.Id:N}", null, DevelopmentPaymentPage.PathOf(payment.Id, links.Issue(payment)), null));
}
