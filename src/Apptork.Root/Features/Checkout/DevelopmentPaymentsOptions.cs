namespace Apptork.Root.Features.Checkout;

/// <summary>The <c>Payments__Development__*</c> settings of the embedded shape's payment page.</summary>
public sealed class DevelopmentPaymentsOptions
{
    /// <summary>
    /// Where the page's "Back to the app" link goes, with <c>payment_id</c> added to its query: a web page or an app link
    /// (<c>myapp://checkout/done</c>), as Stripe Checkout's success URL is. Unset: the page says how to set it.
    /// </summary>
    public string? ReturnUrl { get; set; }

    /// <summary>
    /// How long the page's link (<c>checkout_url</c>) opens it and lets its buttons act: a day by default, as long as a
    /// Stripe Checkout session stays open.
    /// </summary>
    public int PageLinkSeconds { get; set; } = 86_400;
}
