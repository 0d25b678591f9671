using System.Globalization;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stripe;

namespace Apptork.Root.Features.Checkout;

/// <summary>Credit packs, and buying one: a payment started at the provider, credited when the provider says it is paid.</summary>
public static class CheckoutEndpoints
{
    public static RouteGroupBuilder MapCheckoutEndpoints(this RouteGroupBuilder checkout)
    {
        checkout.WithTags("Checkout");
        checkout.MapGet("/packs", ListPacksAsync)
            .WithName("checkout_packs_list").WithSummary("List credit packs")
            .WithDescription("The credit packs on sale, names in the request's language.");
        checkout.MapPost("/sessions", CreateSessionAsync)
            .RequireAuthorization()
            .Throttle(ThrottleScopes.Checkout)
            .Idempotent()
            .Validate<CheckoutSessionBody>()
            .RequireFeature(FeatureFlagKeys.Checkout)
            .ProducesErrors(ErrorCatalog.PaymentsNotConfigured, ErrorCatalog.CheckoutLocked, ErrorCatalog.ServiceUnavailable)
            .WithName("checkout_sessions_create").WithSummary("Start a purchase")
            .WithDescription("Starts buying a pack: returns the page to open (checkout) or the secret for a native payment sheet (payment_sheet).");
        checkout.MapGet("/sessions/{id:guid}", GetSessionAsync)
            .RequireAuthorization()
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("checkout_sessions_get").WithSummary("Get a purchase")
            .WithDescription("Where a purchase stands (pending, paid, failed, expired, partially_refunded, refunded).");
        checkout.MapPost("/webhooks/stripe", ReceiveStripeWebhookAsync)
            .ExemptFromThrottling("Stripe delivers bursts from few addresses and a refused delivery only comes back later; its signature admits it.")
            .ProducesErrors(ErrorCatalog.PaymentsNotConfigured, ErrorCatalog.InvalidSignature, ErrorCatalog.WebhookApiVersionMismatch,
                ErrorCatalog.ParseError, ErrorCatalog.ServiceUnavailable)
            .WithTags(TagsTransformer.Webhooks).WithName("webhooks_stripe").WithSummary("Receive Stripe events")
            .WithDescription("Stripe's event deliveries, verified by their signature; each event is processed once.");
        return checkout;
    }

    private static async Task<Ok<CursorPage<CreditPackView>>> ListPacksAsync(RootDbContext db, Translations translations, CancellationToken cancellationToken)
    {
        var packs = await db.CreditPacks.AsNoTracking()
            .Where(pack => pack.IsActive).OrderBy(pack => pack.SortOrder).ThenBy(pack => pack.Id)
            .ToListAsync(cancellationToken);
        var names = await translations.InCurrentCultureAsync(packs.Select(pack => pack.Id).ToList(), cancellationToken);
        return TypedResults.Ok(new CursorPage<CreditPackView>(
            packs.Select(pack => new CreditPackView(pack.Id, names[pack.Id], pack.Credits, pack.Price, pack.Currency, pack.AppStoreProductId, pack.GooglePlayProductId)).ToList(), null));
    }

    private static async Task<Created<CheckoutSessionView>> CreateSessionAsync(
        CheckoutSessionBody body, HttpContext context, RootDbContext db, Translations translations, CheckoutLock checkoutLock,
        IOptions<PaymentsOptions> options, IServiceProvider services, PublicUrls urls, TimeProvider time, CancellationToken cancellationToken)
    {
        var provider = RequireProvider(options);
        var userId = context.User.UserId();
        var client = ClientInfo.From(context);
        await checkoutLock.EnsureCheckoutAllowedAsync(userId, client.DeviceIdHash, cancellationToken);

        var pack = await db.CreditPacks.AsNoTracking()
            .SingleOrDefaultAsync(candidate => candidate.Id == body.PackId && candidate.IsActive, cancellationToken)
            ?? throw ErrorCatalog.InvalidChoice.ToException("pack_id");
        var payment = Payment.Pending(
            pack, userId, provider, body.Flow is "payment_sheet" ? PaymentFlow.PaymentSheet : PaymentFlow.Checkout, client.DeviceIdHash, time.GetUtcNow());
        // Stored before the provider hears of it, so that its first notification finds the payment.
        db.Payments.Add(payment);
        await db.SaveChangesAsync(cancellationToken);

        PaymentStart start;
        try
        {
            var packName = (await translations.InCurrentCultureAsync([pack.Id], cancellationToken))[pack.Id];
            start = await services.GetRequiredKeyedService<IPaymentGateway>(provider).StartAsync(payment, packName, cancellationToken);
        }
        catch (Exception exception)
        {
            // The provider refused or never answered: no one was given a way to pay this payment, so it ends here
            // rather than stay pending forever. The client may start another.
            payment.Status = PaymentStatus.Expired;
            payment.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            // Stripe.net reports an unreachable API as the HTTP client's own exception, and a refusal as a StripeException.
            throw exception is StripeException or HttpRequestException ? ErrorCatalog.ServiceUnavailable.ToException() : exception;
        }

        payment.ProviderSessionId = start.ProviderSessionId;
        payment.ProviderPaymentId = start.ProviderPaymentId;
        await db.SaveChangesAsync(cancellationToken);
        var checkoutUrl = start.CheckoutUrl is { } url && url.StartsWith('/') ? urls.Absolute(url).AbsoluteUri : start.CheckoutUrl;
        var view = CheckoutSessionView.Of(payment, checkoutUrl, start.ClientSecret,
            payment.Flow == PaymentFlow.PaymentSheet ? options.Value.Stripe.PublishableKey : null);
        return TypedResults.Created($"/api/v1/checkout/sessions/{payment.Id}", view);
    }

    private static async Task<Ok<CheckoutSessionView>> GetSessionAsync(Guid id, HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var payment = await db.Payments.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id && candidate.UserId == userId, cancellationToken)
            ?? throw ErrorCatalog.NotFound.ToException();
        return TypedResults.Ok(CheckoutSessionView.Of(payment, null, null, null));
    }

    private static async Task<Ok<WebhookReceipt>> ReceiveStripeWebhookAsync(
        HttpRequest request, IOptions<PaymentsOptions> options, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (options.Value.ActiveProvider != CheckoutProvider.Stripe)
        {
            throw ErrorCatalog.PaymentsNotConfigured.ToException();
        }

        // The exact bytes Stripe signed: read as text, never re-serialized.
        using var reader = new StreamReader(request.Body);
        var json = await reader.ReadToEndAsync(cancellationToken);
        try
        {
            var outcome = await services.GetRequiredService<StripeWebhooks>().HandleAsync(json, request.Headers[StripeWebhooks.SignatureHeader], cancellationToken);
            return TypedResults.Ok(new WebhookReceipt(true, outcome));
        }
        catch (Exception exception) when (exception is StripeException or HttpRequestException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Stripe's API refused, was unreachable (the HTTP client's own exception) or timed out: a 503 makes Stripe redeliver.
            throw ErrorCatalog.ServiceUnavailable.ToException();
        }
    }

    private static PaymentProvider RequireProvider(IOptions<PaymentsOptions> options) =>
        options.Value.ActiveProvider switch
        {
            CheckoutProvider.Development => PaymentProvider.Development,
            CheckoutProvider.Stripe => PaymentProvider.Stripe,
            _ => throw ErrorCatalog.PaymentsNotConfigured.ToException(),
        };
}

/// <param name="AppStoreProductId">The App Store consumable an iOS app offers for this pack (StoreKit's product id); null when not sold there.</param>
/// <param name="GooglePlayProductId">The Google Play one-time product an Android app offers for this pack; null when not sold there.</param>
public sealed record CreditPackView(string Id, string Name, long Credits, long Price, string Currency, string? AppStoreProductId, string? GooglePlayProductId);

/// <param name="Flow"><c>checkout</c> (a hosted payment page, the default) or <c>payment_sheet</c> (a native payment sheet).</param>
public sealed record CheckoutSessionBody(string? PackId, string? Flow = null);

public sealed class CheckoutSessionBodyValidator : AbstractValidator<CheckoutSessionBody>
{
    public CheckoutSessionBodyValidator()
    {
        RuleFor(body => body.PackId).NotEmpty().MaximumLength(CreditPack.MaxIdLength);
        RuleFor(body => body.Flow).Must(flow => flow is null or "checkout" or "payment_sheet").WithErrorCode(ErrorCatalog.InvalidChoice.Code);
    }
}

/// <param name="CheckoutUrl">The page to open (hosted checkout, or the development provider's page); only in the answer that created it.</param>
/// <param name="ClientSecret">For a native payment sheet; only in the answer that created it.</param>
public sealed record CheckoutSessionView(
    Guid Id, string PackId, long Credits, long Amount, string Currency, PaymentProvider Provider, PaymentFlow Flow, PaymentStatus Status,
    string? CheckoutUrl, string? ClientSecret, string? PublishableKey, long CreditsReversed, DateTimeOffset CreatedAt, DateTimeOffset? PaidAt)
{
    public static CheckoutSessionView Of(Payment payment, string? checkoutUrl, string? clientSecret, string? publishableKey) => new(
        payment.Id, payment.PackId, payment.Credits, payment.Amount, payment.Currency, payment.Provider, payment.Flow, payment.Status,
        checkoutUrl, clientSecret, publishableKey, payment.CreditsReversed, payment.CreatedAt, payment.PaidAt);
}

public sealed record WebhookReceipt(bool Received, WebhookOutcome Outcome);
