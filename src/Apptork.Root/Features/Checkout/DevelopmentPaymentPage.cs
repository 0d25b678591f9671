using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Checkout;

/// <summary>
/// The development provider's "card form": a page that says in large letters that no money moves, with buttons that
/// make the payment succeed, fail or be refunded. Each button goes through <see cref="PaymentSettlement"/> exactly as
/// a Stripe notification would, so the embedded shape exercises the whole purchase path with no keys. The page and its
/// buttons require the buyer's token (<see cref="DevelopmentPaymentLinks"/>), which only <c>checkout_url</c> carries:
/// without it, or with another payment's, a tampered or an expired one, the payment is not found. The page exists only
/// with <c>Payments__Provider=Development</c>, which production refuses at start.
/// </summary>
public static class DevelopmentPaymentPage
{
    private const string BasePath = "/checkout/development";

    /// <summary>The page is UTF-8, so translated names stay readable in its source rather than as character references.</summary>
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>The page's link, with the buyer's token in its query.</summary>
    public static string PathOf(Guid paymentId, string token) =>
        QueryHelpers.AddQueryString($"{BasePath}/{paymentId}", DevelopmentPaymentLinks.TokenParameter, token);

    public static IEndpointRouteBuilder MapDevelopmentPaymentPage(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup(BasePath).ExcludeFromDescription();
        page.MapGet("/{id:guid}", ShowAsync);
        page.MapPost("/{id:guid}/{action}", ActAsync);
        return app;
    }

    private static async Task<IResult> ShowAsync(
        Guid id, [FromQuery(Name = DevelopmentPaymentLinks.TokenParameter)] string? token, RootDbContext db, Translations translations,
        IOptions<PaymentsOptions> options, DevelopmentPaymentLinks links, CancellationToken cancellationToken)
    {
        var payment = await FindAsync(id, token, db, options, links, cancellationToken);
        var packName = (await translations.InCurrentCultureAsync([payment.PackId], cancellationToken))[payment.PackId];
        return Results.Content(Render(payment, token!, packName, options.Value.Development.ReturnUrl), "text/html; charset=utf-8");
    }

    /// <summary>
    /// A form's button posts the token in a hidden field and is answered with the page again; any other client (a test,
    /// curl) may give it in the query instead and gets the payment as JSON.
    /// </summary>
    private static async Task<IResult> ActAsync(
        Guid id, string action, HttpContext context, RootDbContext db, IOptions<PaymentsOptions> options, DevelopmentPaymentLinks links,
        PaymentSettlement settlement, CancellationToken cancellationToken)
    {
        var isForm = context.Request.HasFormContentType;
        var token = (isForm ? await PostedTokenAsync(context.Request, cancellationToken) : null) ?? context.Request.Query[DevelopmentPaymentLinks.TokenParameter];
        var payment = await FindAsync(id, token, db, options, links, cancellationToken);
        var facts = action switch
        {
            "pay" => new PaymentFacts(Paid: true),
            "decline" => new PaymentFacts(Failed: true),
            "refund" => new PaymentFacts(AmountRefunded: payment.Amount),
            _ => throw ErrorCatalog.NotFound.ToException(),
        };
        // Every press is a notification of its own, as every card attempt is at Stripe: two declines count twice.
        await settlement.ApplyAsync(payment.Id, facts, $"dev_{Guid.NewGuid():N}", $"development.{action}", cancellationToken);
        if (isForm)
        {
            return Results.Redirect(PathOf(payment.Id, token!), permanent: false, preserveMethod: false);
        }

        var settled = await db.Payments.AsNoTracking().SingleAsync(candidate => candidate.Id == id, cancellationToken);
        return Results.Ok(CheckoutSessionView.Of(settled, null, null, null));
    }

    /// <summary>The token a button posted; a form that cannot be read carries none.</summary>
    private static async Task<string?> PostedTokenAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return (await request.ReadFormAsync(cancellationToken))[DevelopmentPaymentLinks.TokenParameter];
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>A payment without its buyer's token is not found, as an unknown one is: the page tells a stranger nothing.</summary>
    private static async Task<Payment> FindAsync(
        Guid id, string? token, RootDbContext db, IOptions<PaymentsOptions> options, DevelopmentPaymentLinks links, CancellationToken cancellationToken) =>
        options.Value.ActiveProvider == CheckoutProvider.Development
            && await db.Payments.AsNoTracking().SingleOrDefaultAsync(
                payment => payment.Id == id && payment.Provider == PaymentProvider.Development, cancellationToken) is { } payment
            && links.Admits(token, payment)
            ? payment
            : throw ErrorCatalog.NotFound.ToException();

    /// <summary>The configured return URL with <c>payment_id</c> added, so the app can read the purchase's outcome.</summary>
    private static string ReturnLink(string returnUrl, Guid paymentId) =>
        QueryHelpers.AddQueryString(returnUrl, "payment_id", paymentId.ToString());

    /// <summary>A button posts the token back in a hidden field, so the action's own URL carries no credential.</summary>
    private static string Button(Guid paymentId, string action, string token, string label) =>
        $"""<form method="post" action="{BasePath}/{paymentId}/{action}"><input type="hidden" name="{DevelopmentPaymentLinks.TokenParameter}" value="{Html.Encode(token)}"><button>{label}</button></form>""";

    private static string Render(Payment payment, string token, string packName, string? returnUrl)
    {
        var html = Html;
        var price = (payment.Amount / 100m).ToString("0.00", CultureInfo.InvariantCulture);
        var canPay = payment.PaidAt is null && payment.Status != PaymentStatus.Expired;
        var buttons = canPay
            ? $"""
              {Button(payment.Id, "pay", token, "Pay (nothing is charged)")}
              {Button(payment.Id, "decline", token, "Decline, as a refused card")}
              """
            : payment.Status is PaymentStatus.Paid or PaymentStatus.PartiallyRefunded
                ? Button(payment.Id, "refund", token, "Refund it all")
                : string.Empty;
        var wayBack = returnUrl is { Length: > 0 }
            ? $"""<p><a id="return" href="{html.Encode(ReturnLink(returnUrl, payment.Id))}">Back to the app</a></p>"""
            : "<p>Set <code>Payments__Development__ReturnUrl</code> (a web page or an app link) to offer a way back to the app here.</p>";
        return $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>Development payment: no money moves</title>
            <style>body{"{"}font-family:sans-serif;max-width:36em;margin:2em auto{"}"} .banner{"{"}background:#b00020;color:#fff;padding:1em;font-weight:bold{"}"} form{"{"}display:inline-block;margin:.5em{"}"}</style>
            </head><body>
            <p class="banner">DEVELOPMENT PAYMENT PROVIDER: no card is charged and no money moves. It exists only in the embedded shape
            (Payments__Provider=Development); production uses Stripe.</p>
            <h1>{html.Encode(packName)}: {payment.Credits} credits for {price} {html.Encode(payment.Currency.ToUpperInvariant())}</h1>
            <p>Payment <code>{payment.Id}</code> is <strong id="status">{html.Encode(payment.Status.ToString())}</strong>.</p>
            {buttons}
            {wayBack}
            </body></html>
            """;
    }
}
