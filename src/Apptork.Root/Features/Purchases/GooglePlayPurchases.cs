using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apptork.Root.Features.Auth.Social;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Jobs;
using Hangfire;

namespace Apptork.Root.Features.Purchases;

/// <summary>
/// Google Play purchases: a purchase token the app sends is looked up with the Google Play Developer API, credited once
/// per order and then consumed; real-time developer notifications (a Pub/Sub push) and the voided purchases list take
/// refunded and cancelled purchases back.
/// </summary>
public sealed partial class GooglePlayPurchases(
    GooglePlaySettings settings, GooglePlayApi api, StorePurchases purchases, GooglePlayNotificationTokens notificationTokens, ILogger<GooglePlayPurchases> logger)
{
    /// <summary>Real-time developer notifications' <c>oneTimeProductNotification.notificationType</c> for a cancelled purchase.</summary>
    public const int OneTimeProductCanceled = 2;

    public async Task<(Payment Payment, bool Created)> RedeemAsync(
        Guid userId, string productId, string purchaseToken, string? deviceIdHash, CancellationToken cancellationToken)
    {
        RequireConfigured();
        var purchase = await api.GetPurchaseAsync(productId, purchaseToken, cancellationToken);
        if (purchase.PurchaseState == GooglePlayPurchase.Pending)
        {
            throw ErrorCatalog.PurchasePending.ToException();
        }

        if (purchase.IsTest && !settings.AllowTestPurchases)
        {
            throw ErrorCatalog.SandboxPurchaseRefused.ToException(GooglePlayApi.PurchaseTokenField);
        }

        Guid? accountUserId = null;
        if (purchase.ObfuscatedExternalAccountId is { Length: > 0 } account)
        {
            // The app sets it to the user's id (a UUID); anything else cannot be this user's.
            accountUserId = Guid.TryParse(account, out var parsed) ? parsed : throw ErrorCatalog.PurchaseOfAnotherUser.ToException();
        }

        // Google refuses a token of another product, and says which product it is: both are checked.
        if ((purchase.ProductId is { } bought && bought != productId) || purchase.Quantity is < 1 or > VerifiedStorePurchase.MaxQuantity)
        {
            throw ErrorCatalog.InvalidPurchaseToken.ToException(GooglePlayApi.PurchaseTokenField);
        }

        var consumed = purchase.ConsumptionState == GooglePlayPurchase.Consumed;
        var verified = new VerifiedStorePurchase(
            PaymentProvider.GooglePlay, TransactionId(purchase.OrderId, purchaseToken), productId, accountUserId,
            Revoked: purchase.PurchaseState == GooglePlayPurchase.Canceled, purchase.Quantity ?? 1, ConsumedElsewhere: consumed);
        var credited = await purchases.CreditAsync(userId, verified, deviceIdHash, cancellationToken);
        if (!consumed)
        {
            await ConsumeAsync(productId, purchaseToken, cancellationToken);
        }

        return credited;
    }

    /// <summary>A Pub/Sub push of a real-time developer notification, its bearer token verified first.</summary>
    public async Task<WebhookOutcome> ReceiveNotificationAsync(string? authorization, JsonElement body, CancellationToken cancellationToken)
    {
        RequireConfigured();
        if (settings.NotificationAudience is null)
        {
            throw ErrorCatalog.StoreNotConfigured.ToException();
        }

        await notificationTokens.VerifyAsync(authorization, cancellationToken);
        var (messageId, notification) = Read(body);
        if (Text(notification, "packageName") != settings.PackageName)
        {
            LogNotForThisApp(logger, messageId);
            return WebhookOutcome.Ignored;
        }

        string? orderId = null;
        string? token = null;
        if (notification.TryGetProperty("voidedPurchaseNotification", out var voided) && voided.ValueKind == JsonValueKind.Object)
        {
            (orderId, token) = (Text(voided, "orderId"), Text(voided, "purchaseToken"));
        }
        else if (notification.TryGetProperty("oneTimeProductNotification", out var oneTime)
            && oneTime.ValueKind == JsonValueKind.Object
            && oneTime.TryGetProperty("notificationType", out var type) && type.TryGetInt32(out var typeCode) && typeCode == OneTimeProductCanceled
            && Text(oneTime, "purchaseToken") is { } canceledToken && Text(oneTime, "sku") is { } sku)
        {
            // The notification names the token only: Google tells its order, and whether it is really cancelled. A token
            // Google no longer knows is acknowledged: refusing would only make Pub/Sub push it again for days.
            GooglePlayPurchase purchase;
            try
            {
                purchase = await api.GetPurchaseAsync(sku, canceledToken, cancellationToken);
            }
            catch (ApiException exception) when (exception.Errors[0].Definition == ErrorCatalog.InvalidPurchaseToken)
            {
                LogAcknowledged(logger, messageId);
                return WebhookOutcome.Ignored;
            }

            if (purchase.PurchaseState != GooglePlayPurchase.Canceled)
            {
                return WebhookOutcome.Ignored;
            }

            (orderId, token) = (purchase.OrderId, canceledToken);
        }

        if (orderId is null && token is null)
        {
            LogAcknowledged(logger, messageId);
            return WebhookOutcome.Ignored;
        }

        var transactionId = TransactionId(orderId, token!);
        var outcome = await purchases.RevokeAsync(PaymentProvider.GooglePlay, transactionId, "google_play.voided", cancellationToken);
        if (outcome == SettlementOutcome.Duplicate)
        {
            return WebhookOutcome.Duplicate;
        }

        LogRevoked(logger, transactionId, messageId);
        return WebhookOutcome.Processed;
    }

    /// <summary>Every purchase Google lists as voided in the last 30 days (what it keeps by default) is taken back, once each.</summary>
    public async Task<int> SweepVoidedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var taken = 0;
        foreach (var voided in await api.ListVoidedAsync(now.AddDays(-30), cancellationToken))
        {
            if (voided.OrderId is null && voided.PurchaseToken is null)
            {
                continue;
            }

            var transactionId = TransactionId(voided.OrderId, voided.PurchaseToken!);
            if (await purchases.RevokeAsync(PaymentProvider.GooglePlay, transactionId, "google_play.voided", cancellationToken) == SettlementOutcome.Processed)
            {
                taken++;
            }
        }

        return taken;
    }

    /// <summary>The order id; a purchase without one (some test purchases) is known by its token's hash, never the token itself.</summary>
    public static string TransactionId(string? orderId, string purchaseToken) =>
        orderId is { Length: > 0 } ? orderId : "token:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(purchaseToken)));

    /// <summary>A consume that fails leaves the purchase credited: the app sends it again and the replay consumes it.</summary>
    private async Task ConsumeAsync(string productId, string purchaseToken, CancellationToken cancellationToken)
    {
        try
        {
            await api.ConsumeAsync(productId, purchaseToken, cancellationToken);
        }
        catch (ApiException exception)
        {
            LogNotConsumed(logger, productId, exception.Message);
        }
    }

    private static (string MessageId, JsonElement Notification) Read(JsonElement body)
    {
        try
        {
            var message = body.GetProperty("message");
            var messageId = message.GetProperty("messageId").GetString() ?? throw new FormatException("messageId");
            var data = Convert.FromBase64String(message.GetProperty("data").GetString() ?? throw new FormatException("data"));
            using var notification = JsonDocument.Parse(data);
            return notification.RootElement.ValueKind == JsonValueKind.Object
                ? (messageId, notification.RootElement.Clone())
                : throw new FormatException("not an object");
        }
        catch (Exception exception) when (exception is KeyNotFoundException or InvalidOperationException or FormatException or JsonException)
        {
            throw ErrorCatalog.ParseError.ToException();
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private void RequireConfigured()
    {
        if (!settings.IsConfigured)
        {
            throw ErrorCatalog.StoreNotConfigured.ToException();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Google Play notification {MessageId} is for another package: acknowledged, nothing done")]
    private static partial void LogNotForThisApp(ILogger logger, string messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Google Play notification {MessageId} acknowledged: nothing to do for consumable credit packs")]
    private static partial void LogAcknowledged(ILogger logger, string messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Google Play purchase {TransactionId} voided (notification {MessageId}) applied")]
    private static partial void LogRevoked(ILogger logger, string transactionId, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A credited Google Play purchase of {ProductId} was not consumed ({Error}); the app's next send consumes it")]
    private static partial void LogNotConsumed(ILogger logger, string productId, string error);
}

/// <summary>
/// The bearer token of a Pub/Sub push: an OpenID Connect token Google signs, for the subscription's audience, naming
/// the subscription's service account. Anything else is <c>invalid_signature</c>, and Pub/Sub delivers again later.
/// </summary>
public sealed class GooglePlayNotificationTokens(GooglePlaySettings settings, IHttpClientFactory httpClients, TimeProvider time, ILogger<GooglePlayNotificationTokens> logger)
{
    private readonly Lazy<IdTokenVerifier> verifier = new(() => new IdTokenVerifier(
        new ProviderSigningKeys("google-pubsub", settings.JwksUrl, httpClients, time, logger),
        [settings.NotificationAudience!], ["https://accounts.google.com", "accounts.google.com"], time));

    public async Task VerifyAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (authorization is not { } header || !header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            throw ErrorCatalog.InvalidSignature.ToException();
        }

        try
        {
            var token = await verifier.Value.VerifyAsync(header["Bearer ".Length..].Trim(), "authorization", cancellationToken);
            if (!IdTokenVerifier.IsTrue(token, "email_verified") || IdTokenVerifier.Text(token, "email") != settings.NotificationServiceAccount)
            {
                throw ErrorCatalog.InvalidSignature.ToException();
            }
        }
        catch (ApiException exception) when (exception.Errors[0].Definition == ErrorCatalog.InvalidIdToken)
        {
            throw ErrorCatalog.InvalidSignature.ToException();
        }
    }
}

/// <summary>Google's recommended safety net beside notifications: every hour, the voided purchases list.</summary>
public sealed partial class GooglePlayVoidedPurchasesJob(GooglePlaySettings settings, GooglePlayPurchases purchases, TimeProvider time, ILogger<GooglePlayVoidedPurchasesJob> logger)
    : IRecurringJob
{
    public string Id => "google-play-voided-purchases";

    public string Schedule => Cron.Hourly();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (settings.IsConfigured)
        {
            var taken = await purchases.SweepVoidedAsync(time.GetUtcNow(), cancellationToken);
            LogSwept(logger, taken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Google Play voided purchases swept: {Taken} taken back")]
    private static partial void LogSwept(ILogger logger, int taken);
}
