namespace Apptork.Root.Features.Purchases;

/// <summary>What this product reads of a StoreKit 2 transaction (Apple's JWSTransactionDecodedPayload); times in Unix milliseconds.</summary>
public sealed record AppStoreTransaction(
    string? TransactionId,
    string? OriginalTransactionId,
    string? BundleId,
    string? ProductId,
    string? Type,
    string? Environment,
    string? AppAccountToken,
    int? Quantity,
    long? PurchaseDate,
    long? RevocationDate,
    int? RevocationReason,
    long? SignedDate);

/// <summary>An App Store Server Notification V2 (Apple's ResponseBodyV2DecodedPayload), as far as purchases of consumables need it.</summary>
public sealed record AppStoreNotification(string? NotificationType, string? Subtype, string? NotificationUuid, AppStoreNotificationData? Data, long? SignedDate);

public sealed record AppStoreNotificationData(long? AppAppleId, string? BundleId, string? Environment, string? SignedTransactionInfo);

/// <summary>The values of Apple's <c>environment</c> field.</summary>
public static class AppStoreEnvironments
{
    public const string Production = "Production";
    public const string Sandbox = "Sandbox";
}
