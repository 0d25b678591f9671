using System.Text.Json;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apptork.Root.Features.Purchases;

/// <summary>In-app purchases: what an app bought in a store, sent here to be verified and credited; the stores' refund notifications.</summary>
public static class PurchaseEndpoints
{
    public static RouteGroupBuilder MapPurchaseEndpoints(this RouteGroupBuilder purchases)
    {
        purchases.WithTags("Purchases");
        // Neither the checkout flag nor the checkout lock applies: the store has already taken the user's money.
        purchases.MapPost("/apple", RedeemAppleAsync)
            .RequireAuthorization()
            .Validate<ApplePurchaseBody>()
            .ProducesErrors(ErrorCatalog.StoreNotConfigured, ErrorCatalog.InvalidStoreTransaction, ErrorCatalog.SandboxPurchaseRefused,
                ErrorCatalog.UnknownStoreProduct, ErrorCatalog.PurchaseOfAnotherUser, ErrorCatalog.StorePurchaseRevoked)
            .WithName("purchases_apple_redeem").WithSummary("Credit an App Store purchase")
            .WithDescription("Verifies a StoreKit 2 transaction (its JWS) and credits its pack once: 201 the first time, 200 with the same purchase after.");
        purchases.MapPost("/apple/notifications", ReceiveAppleNotificationAsync)
            .ExemptFromThrottling("Apple delivers from few addresses and retries a refused delivery later; its signature admits it.")
            .ProducesErrors(ErrorCatalog.StoreNotConfigured, ErrorCatalog.InvalidSignature, ErrorCatalog.ParseError)
            .WithTags(TagsTransformer.Webhooks).WithName("webhooks_app_store").WithSummary("Receive App Store Server Notifications V2")
            .WithDescription("Apple's signed notifications; refunds and revocations take the purchase's credits back, once per notification.");
        purchases.MapPost("/google", RedeemGoogleAsync)
            .RequireAuthorization()
            .Validate<GooglePurchaseBody>()
            .ProducesErrors(ErrorCatalog.StoreNotConfigured, ErrorCatalog.InvalidPurchaseToken, ErrorCatalog.PurchasePending, ErrorCatalog.SandboxPurchaseRefused,
                ErrorCatalog.UnknownStoreProduct, ErrorCatalog.PurchaseOfAnotherUser, ErrorCatalog.StorePurchaseRevoked, ErrorCatalog.PurchaseAlreadyConsumed,
                ErrorCatalog.ServiceUnavailable)
            .WithName("purchases_google_redeem").WithSummary("Credit a Google Play purchase")
            .WithDescription("Looks the purchase up with Google Play, credits its pack once per order and consumes it: 201 the first time, 200 with the same purchase after.");
        purchases.MapPost("/google/notifications", ReceiveGoogleNotificationAsync)
            .ExemptFromThrottling("Pub/Sub pushes from Google's addresses and retries a refused push later; its OIDC token admits it.")
            .ProducesErrors(ErrorCatalog.StoreNotConfigured, ErrorCatalog.InvalidSignature, ErrorCatalog.ParseError, ErrorCatalog.ServiceUnavailable)
            .WithTags(TagsTransformer.Webhooks).WithName("webhooks_google_play").WithSummary("Receive Google Play real-time developer notifications")
            .WithDescription("Pub/Sub pushes, verified by their OIDC token; voided and cancelled purchases take their credits back, once per message.");
        return purchases;
    }

    private static async Task<Results<Created<CheckoutSessionView>, Ok<CheckoutSessionView>>> RedeemGoogleAsync(
        GooglePurchaseBody body, HttpContext context, GooglePlayPurchases googlePlay, CancellationToken cancellationToken)
    {
        var (payment, created) = await googlePlay.RedeemAsync(
            context.User.UserId(), body.ProductId!, body.PurchaseToken!, ClientInfo.From(context).DeviceIdHash, cancellationToken);
        return Answer(payment, created);
    }

    /// <summary>Pub/Sub's push body is camelCase (<c>{"message": {"data", "messageId"}, "subscription"}</c>): read as Google writes it.</summary>
    private static async Task<Ok<WebhookReceipt>> ReceiveGoogleNotificationAsync(HttpRequest request, GooglePlayPurchases googlePlay, CancellationToken cancellationToken)
    {
        using var body = await ReadJsonAsync(request, cancellationToken);
        return TypedResults.Ok(new WebhookReceipt(true, await googlePlay.ReceiveNotificationAsync(request.Headers.Authorization, body.RootElement, cancellationToken)));
    }

    private static Results<Created<CheckoutSessionView>, Ok<CheckoutSessionView>> Answer(Payment payment, bool created)
    {
        var view = CheckoutSessionView.Of(payment, null, null, null);
        return created ? TypedResults.Created($"/api/v1/checkout/sessions/{payment.Id}", view) : TypedResults.Ok(view);
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            throw ErrorCatalog.ParseError.ToException();
        }
    }

    private static async Task<Results<Created<CheckoutSessionView>, Ok<CheckoutSessionView>>> RedeemAppleAsync(
        ApplePurchaseBody body, HttpContext context, AppStorePurchases appStore, CancellationToken cancellationToken)
    {
        var (payment, created) = await appStore.RedeemAsync(context.User.UserId(), body.SignedTransaction!, ClientInfo.From(context).DeviceIdHash, cancellationToken);
        return Answer(payment, created);
    }

    /// <summary>Apple's body is camelCase (<c>{"signedPayload": "…"}</c>), not the API's snake_case: read as Apple writes it.</summary>
    private static async Task<Ok<WebhookReceipt>> ReceiveAppleNotificationAsync(HttpRequest request, AppStorePurchases appStore, CancellationToken cancellationToken)
    {
        appStore.RequireConfigured();
        using var body = await ReadJsonAsync(request, cancellationToken);
        var signedPayload = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("signedPayload", out var value)
            && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        return TypedResults.Ok(new WebhookReceipt(true, await appStore.ReceiveNotificationAsync(
            signedPayload is { Length: > 0 } ? signedPayload : throw ErrorCatalog.ParseError.ToException(), cancellationToken)));
    }
}

/// <param name="SignedTransaction">StoreKit 2's <c>Transaction</c> JWS (<c>VerificationResult.jwsRepresentation</c>), as the app received it.</param>
public sealed record ApplePurchaseBody(string? SignedTransaction);

public sealed class ApplePurchaseBodyValidator : AbstractValidator<ApplePurchaseBody>
{
    /// <summary>A transaction with its three certificates is about 5 KB.</summary>
    public const int MaxLength = 32_768;

    public ApplePurchaseBodyValidator() => RuleFor(body => body.SignedTransaction).NotEmpty().MaximumLength(MaxLength);
}

/// <param name="ProductId">The Google Play product bought (Play Billing's <c>Purchase.getProducts()</c>).</param>
/// <param name="PurchaseToken">Play Billing's <c>Purchase.getPurchaseToken()</c>.</param>
public sealed record GooglePurchaseBody(string? ProductId, string? PurchaseToken);

public sealed class GooglePurchaseBodyValidator : AbstractValidator<GooglePurchaseBody>
{
    public GooglePurchaseBodyValidator()
    {
        RuleFor(body => body.ProductId).NotEmpty().MaximumLength(CreditPack.MaxStoreProductIdLength);
        RuleFor(body => body.PurchaseToken).NotEmpty().MaximumLength(4096);
    }
}
