using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Checkout;

/// <summary>
/// The credential of the development payment page: its payment and its buyer protected by ASP.NET Core Data Protection
/// with an expiry, as the generation stream URLs are. Only the buyer receives it (in <c>checkout_url</c>), so someone
/// who learns a payment's id can neither see the page nor press its buttons (five declines would lock the buyer's
/// checkout). Its purpose being its own, it opens nothing else.
/// </summary>
public sealed class DevelopmentPaymentLinks(IDataProtectionProvider protection, IOptions<PaymentsOptions> options, TimeProvider time)
{
    /// <summary>The query parameter of the page's link, and the hidden field its buttons post back.</summary>
    public const string TokenParameter = "token";
    private const string Purpose = "apptork-root/development-payment-page";

    private readonly ExpiringTokens tokens = new(protection, Purpose);

    public string Issue(Payment payment) =>
        tokens.Issue(Payload(payment), time.GetUtcNow() + TimeSpan.FromSeconds(options.Value.Development.PageLinkSeconds));

    /// <summary>Whether the token is a valid, unexpired one issued for this payment and its buyer.</summary>
    public bool Admits(string? token, Payment payment) => tokens.Read(token) == Payload(payment);

    private static string Payload(Payment payment) => $"{payment.UserId:N}\n{payment.Id:N}";
}
