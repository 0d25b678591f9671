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
        return purchases;
    }

    private static async Task<Results<Created<CheckoutSessionView>, Ok<CheckoutSessionView>>> RedeemAppleAsync(
        ApplePurchaseBody body, HttpContext context, AppStorePurchases appStore, CancellationToken cancellationToken)
    {
        var (payment, created) = await appStore.RedeemAsync(context.User.UserId(), body.SignedTransaction!, ClientInfo.From(context).DeviceIdHash, cancellationToken);
        var view = CheckoutSessionView.Of(payment, null, null, null);
        return created ? TypedResults.Created($"/api/v1/checkout/sessions/{payment.Id}", view) : TypedResults.Ok(view);
    }

    /// <summary>Apple's body is camelCase (<c>{"signedPayload": "…"}</c>), not the API's snake_case: read as Apple writes it.</summary>
    private static async Task<Ok<WebhookReceipt>> ReceiveAppleNotificationAsync(HttpRequest request, AppStorePurchases appStore, CancellationToken cancellationToken)
    {
        appStore.RequireConfigured();
        string? signedPayload;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            signedPayload = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("signedPayload", out var value)
                && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException)
        {
            signedPayload = null;
        }

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
