using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Checkout;

/// <summary>The card checkout this server offers: <c>Payments__Provider</c>.</summary>
public enum CheckoutProvider
{
    /// <summary>Checkout is off: its endpoints answer 404 <c>payments_not_configured</c> (the production shape's default).</summary>
    None,
    /// <summary>A local confirmation page instead of a card form; no money moves (embedded shape only, and its default).</summary>
    Development,
    Stripe,
}

/// <summary>Who took a payment's money: a card checkout, or a store's in-app purchase.</summary>
public enum PaymentProvider
{
    Development,
    Stripe,
    /// <summary>An in-app purchase in Apple's App Store (settings <c>Purchases__Apple__*</c>).</summary>
    AppStore,
    /// <summary>An in-app purchase in Google Play (settings <c>Purchases__Google__*</c>).</summary>
    GooglePlay,
}

/// <summary>The <c>Payments__*</c> settings.</summary>
public sealed class PaymentsOptions
{
    public const string Section = "Payments";

    /// <summary>Unset: <see cref="CheckoutProvider.Development"/> in the embedded shape, <see cref="CheckoutProvider.None"/> in production.</summary>
    public CheckoutProvider? Provider { get; set; }

    public StripePaymentsOptions Stripe { get; set; } = new();

    public DevelopmentPaymentsOptions Development { get; set; } = new();

    public CheckoutProvider ActiveProvider => Provider ?? CheckoutProvider.None;
}

/// <summary>
/// Refuses at start the payment settings that could only fail later, at a user's purchase, and a development provider
/// anywhere money could be expected. Checked at start, not at composition, so <c>migrate</c> needs none of them.
/// </summary>
public sealed class PaymentsSettingsValidator(RuntimeShape shape) : IValidateOptions<PaymentsOptions>
{
    public ValidateOptionsResult Validate(string? name, PaymentsOptions options)
    {
        var failures = new List<string>();
        if (options.ActiveProvider == CheckoutProvider.Development && shape.IsProduction)
        {
            failures.Add("Payments__Provider is Development, which works only in the embedded shape (it grants credits without payment); "
                + "set Payments__Provider=Stripe with its keys, or None to turn checkout off.");
        }

        if (options.Development.ReturnUrl is { Length: > 0 } returnUrl && !Uri.TryCreate(returnUrl, UriKind.Absolute, out _))
        {
            failures.Add($"Payments__Development__ReturnUrl is '{returnUrl}', not an absolute URL (a web page or an app link such as myapp://checkout/done).");
        }

        if (options.Development.PageLinkSeconds is < 1 or > 604_800)
        {
            failures.Add($"Payments__Development__PageLinkSeconds is {options.Development.PageLinkSeconds}, not between 1 and 604800 (a week).");
        }

        if (options.ActiveProvider == CheckoutProvider.Stripe)
        {
            var stripe = options.Stripe;
            if (string.IsNullOrWhiteSpace(stripe.SecretKey) || !(stripe.SecretKey.StartsWith("sk_", StringComparison.Ordinal) || stripe.SecretKey.StartsWith("rk_", StringComparison.Ordinal)))
            {
                failures.Add("Payments__Stripe__SecretKey is required when Payments__Provider=Stripe: the secret key from Stripe's dashboard (sk_live_…, sk_test_… or a restricted rk_… key).");
            }

            if (string.IsNullOrWhiteSpace(stripe.WebhookSecret) || !stripe.WebhookSecret.StartsWith("whsec_", StringComparison.Ordinal))
            {
                failures.Add("Payments__Stripe__WebhookSecret is required when Payments__Provider=Stripe: the webhook endpoint's signing secret (whsec_…); without it no payment could be credited.");
            }

            if (!Uri.TryCreate(stripe.SuccessUrl, UriKind.Absolute, out _))
            {
                failures.Add($"Payments__Stripe__SuccessUrl is '{stripe.SuccessUrl}', not an absolute URL; Stripe Checkout sends the payer there after paying.");
            }

            if (stripe.CancelUrl is { Length: > 0 } cancelUrl && !Uri.TryCreate(cancelUrl, UriKind.Absolute, out _))
            {
                failures.Add($"Payments__Stripe__CancelUrl is '{cancelUrl}', not an absolute URL.");
            }

            ProviderUrls.Check("Payments__Stripe__ApiBase", stripe.ApiBase, shape, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
