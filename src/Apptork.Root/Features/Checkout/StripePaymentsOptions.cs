using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Checkout;

/// <summary>The <c>Payments__Stripe__*</c> settings.</summary>
public sealed class StripePaymentsOptions
{
    /// <summary><c>sk_live_…</c>, <c>sk_test_…</c> or a restricted <c>rk_…</c> key allowed to create Checkout Sessions and PaymentIntents.</summary>
    public string? SecretKey { get; set; }

    /// <summary>The signing secret of the webhook endpoint (<c>whsec_…</c>).</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Handed to apps for the native payment sheet (<c>pk_…</c>); optional.</summary>
    public string? PublishableKey { get; set; }

    /// <summary>Stripe's API; another URL only for tests and proxies.</summary>
    public string ApiBase { get; set; } = "https://api.stripe.com";

    /// <summary>Where Stripe Checkout sends the payer after paying (a web page or an app link); required for the checkout flow.</summary>
    public string? SuccessUrl { get; set; }

    /// <summary>Where it sends a payer who gives up; the success URL when unset.</summary>
    public string? CancelUrl { get; set; }

    /// <summary>How old a webhook's signed timestamp may be: older deliveries are refused as replays (Stripe's default, 5 minutes).</summary>
    [Range(1, 3600)]
    public int WebhookToleranceSeconds { get; set; } = 300;
}
