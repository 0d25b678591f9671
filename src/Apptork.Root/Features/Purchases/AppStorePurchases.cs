using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Errors;

namespace Apptork.Root.Features.Purchases;

/// <summary>
/// App Store purchases: a StoreKit 2 transaction the app sends is verified and credited once; App Store Server
/// Notifications V2 take refunded and revoked purchases back.
/// </summary>
public sealed partial class AppStorePurchases(
    AppleStoreSettings settings, AppStoreSignedData signedData, StorePurchases purchases, ILogger<AppStorePurchases> logger)
{
    public const string SignedTransactionField = "signed_transaction";

    public async Task<(Payment Payment, bool Created)> RedeemAsync(Guid userId, string signedTransaction, string? deviceIdHash, CancellationToken cancellationToken)
    {
        RequireConfigured();
        AppStoreTransaction transaction;
        try
        {
            transaction = await signedData.VerifyAsync<AppStoreTransaction>(signedTransaction);
        }
        catch (AppStoreVerificationException exception)
        {
            throw Refused(exception.Message);
        }

        if (transaction.BundleId != settings.BundleId)
        {
            throw Refused($"bundle id '{transaction.BundleId}' is not {settings.BundleId}");
        }

        if (!IsAcceptedEnvironment(transaction.Environment))
        {
            throw transaction.Environment == AppStoreEnvironments.Sandbox
                ? ErrorCatalog.SandboxPurchaseRefused.ToException(SignedTransactionField)
                : Refused($"environment '{transaction.Environment}'");
        }

        if (string.IsNullOrEmpty(transaction.TransactionId) || string.IsNullOrEmpty(transaction.ProductId))
        {
            throw Refused("no transaction or product id");
        }

        Guid? accountUserId = null;
        if (transaction.AppAccountToken is { Length: > 0 } token)
        {
            accountUserId = Guid.TryParse(token, out var parsed) ? parsed : throw Refused("appAccountToken is not a UUID");
        }

        if (transaction.Quantity is < 1 or > VerifiedStorePurchase.MaxQuantity)
        {
            throw Refused($"quantity {transaction.Quantity}");
        }

        var purchase = new VerifiedStorePurchase(
            PaymentProvider.AppStore, transaction.TransactionId, transaction.ProductId, accountUserId, transaction.RevocationDate is not null, transaction.Quantity ?? 1);
        return await purchases.CreditAsync(userId, purchase, deviceIdHash, cancellationToken);
    }

    /// <summary>
    /// A notification for this app is acted on (refunds, revocations) or acknowledged; one signed for another app or
    /// environment is acknowledged and logged, since answering an error would only make Apple send it again.
    /// </summary>
    public async Task<WebhookOutcome> ReceiveNotificationAsync(string signedPayload, CancellationToken cancellationToken)
    {
        RequireConfigured();
        var notification = await VerifiedOrInvalidSignatureAsync<AppStoreNotification>(signedPayload);
        var data = notification.Data;
        if (notification.NotificationUuid is not { Length: > 0 } uuid || notification.NotificationType is not { Length: > 0 } type)
        {
            throw ErrorCatalog.ParseError.ToException();
        }

        if (data?.BundleId != settings.BundleId || (settings.AppAppleId is { } appAppleId && data.AppAppleId is { } named && named != appAppleId)
            || !IsAcceptedEnvironment(data.Environment))
        {
            LogNotForThisApp(logger, type, uuid, data?.BundleId, data?.Environment);
            return WebhookOutcome.Ignored;
        }

        if (type is not ("REFUND" or "REVOKE"))
        {
            LogAcknowledged(logger, type, notification.Subtype, uuid);
            return WebhookOutcome.Ignored;
        }

        if (data.SignedTransactionInfo is not { Length: > 0 } signedTransaction)
        {
            throw ErrorCatalog.ParseError.ToException();
        }

        var transaction = await VerifiedOrInvalidSignatureAsync<AppStoreTransaction>(signedTransaction);
        if (transaction.BundleId != settings.BundleId || transaction.TransactionId is not { Length: > 0 } transactionId)
        {
            LogNotForThisApp(logger, type, uuid, transaction.BundleId, data.Environment);
            return WebhookOutcome.Ignored;
        }

        var outcome = await purchases.RevokeAsync(PaymentProvider.AppStore, transactionId, $"app_store.{type.ToLowerInvariant()}", cancellationToken);
        if (outcome == SettlementOutcome.Duplicate)
        {
            return WebhookOutcome.Duplicate;
        }

        LogRevoked(logger, type, transactionId, uuid);
        return WebhookOutcome.Processed;
    }

    private bool IsAcceptedEnvironment(string? environment) =>
        environment == AppStoreEnvironments.Production || (environment == AppStoreEnvironments.Sandbox && settings.AllowSandbox);

    private async Task<T> VerifiedOrInvalidSignatureAsync<T>(string jws)
        where T : class
    {
        try
        {
            return await signedData.VerifyAsync<T>(jws);
        }
        catch (AppStoreVerificationException exception)
        {
            LogRefused(logger, exception.Message);
            throw ErrorCatalog.InvalidSignature.ToException();
        }
    }

    private ApiException Refused(string reason)
    {
        LogRefused(logger, reason);
        return ErrorCatalog.InvalidStoreTransaction.ToException(SignedTransactionField);
    }

    public void RequireConfigured()
    {
        if (!settings.IsConfigured)
        {
            throw ErrorCatalog.StoreNotConfigured.ToException();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "App Store data refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "App Store notification {Type} {NotificationUuid} is for bundle {BundleId} in {Environment}, not this app: acknowledged, nothing done")]
    private static partial void LogNotForThisApp(ILogger logger, string type, string notificationUuid, string? bundleId, string? environment);

    [LoggerMessage(Level = LogLevel.Information, Message = "App Store notification {Type} ({Subtype}) {NotificationUuid} acknowledged: nothing to do for consumable credit packs")]
    private static partial void LogAcknowledged(ILogger logger, string type, string? subtype, string notificationUuid);

    [LoggerMessage(Level = LogLevel.Information, Message = "App Store {Type} of transaction {TransactionId} (notification {NotificationUuid}) applied")]
    private static partial void LogRevoked(ILogger logger, string type, string transactionId, string notificationUuid);
}
