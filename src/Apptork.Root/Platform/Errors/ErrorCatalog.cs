namespace Apptork.Root.Platform.Errors;

/// <summary>
/// One catalog entry: a stable code clients branch on, the HTTP status it answers with, and whether it
/// describes a field (rendered as <c>validation_error</c>) or the request as a whole.
/// The human text lives in <c>Resources/ErrorMessages.resx</c> under the same key, one file per language.
/// </summary>
public sealed record ErrorDefinition(string Code, int Status, bool IsFieldError = false)
{
    public ApiError At(string? attr, IReadOnlyDictionary<string, object?>? args = null) => new(this, attr, args);

    public ApiException ToException(string? attr = null, IReadOnlyDictionary<string, object?>? args = null) =>
        new([At(attr, args)]);
}

/// <summary>Every error code the API can return. Codes are part of the contract: never rename one.</summary>
public static class ErrorCatalog
{
    // Field errors (400 validation_error), named after DRF's so clients written for the original keep working.
    public static readonly ErrorDefinition Required = new("required", 400, IsFieldError: true);
    public static readonly ErrorDefinition Invalid = new("invalid", 400, IsFieldError: true);
    public static readonly ErrorDefinition Null = new("null", 400, IsFieldError: true);
    public static readonly ErrorDefinition Blank = new("blank", 400, IsFieldError: true);
    public static readonly ErrorDefinition MaxLength = new("max_length", 400, IsFieldError: true);
    public static readonly ErrorDefinition MinLength = new("min_length", 400, IsFieldError: true);
    public static readonly ErrorDefinition MaxValue = new("max_value", 400, IsFieldError: true);
    public static readonly ErrorDefinition MinValue = new("min_value", 400, IsFieldError: true);
    public static readonly ErrorDefinition InvalidChoice = new("invalid_choice", 400, IsFieldError: true);
    public static readonly ErrorDefinition UnknownField = new("unknown_field", 400, IsFieldError: true);
    public static readonly ErrorDefinition InvalidCursor = new("invalid_cursor", 400, IsFieldError: true);
    /// <summary>A name holds control or invisible formatting characters (U+202E and other direction overrides) that would disguise it.</summary>
    public static readonly ErrorDefinition ControlCharacters = new("control_characters", 400, IsFieldError: true);

    // Request-level errors.
    public static readonly ErrorDefinition ParseError = new("parse_error", 400);
    public static readonly ErrorDefinition NotAuthenticated = new("not_authenticated", 401);
    public static readonly ErrorDefinition AuthenticationFailed = new("authentication_failed", 401);
    public static readonly ErrorDefinition PermissionDenied = new("permission_denied", 403);
    public static readonly ErrorDefinition NotFound = new("not_found", 404);
    public static readonly ErrorDefinition MethodNotAllowed = new("method_not_allowed", 405);
    public static readonly ErrorDefinition NotAcceptable = new("not_acceptable", 406);
    public static readonly ErrorDefinition Conflict = new("conflict", 409);
    public static readonly ErrorDefinition PayloadTooLarge = new("payload_too_large", 413);
    public static readonly ErrorDefinition UnsupportedMediaType = new("unsupported_media_type", 415);
    public static readonly ErrorDefinition Throttled = new("throttled", 429);
    public static readonly ErrorDefinition ClientError = new("client_error", 400);
    public static readonly ErrorDefinition ServerError = new("error", 500);
    public static readonly ErrorDefinition ServiceUnavailable = new("service_unavailable", 503);

    // Sign-in and accounts.
    public static readonly ErrorDefinition DisposableEmail = new("disposable_email", 400, IsFieldError: true);
    public static readonly ErrorDefinition OtpExpired = new("otp_expired", 400);
    public static readonly ErrorDefinition OtpSuperseded = new("otp_superseded", 400);
    public static readonly ErrorDefinition OtpResendTooSoon = new("otp_resend_too_soon", 429);
    public static readonly ErrorDefinition InvalidOtp = new("invalid_otp", 400);
    public static readonly ErrorDefinition OtpAttemptsExceeded = new("otp_attempts_exceeded", 400);
    public static readonly ErrorDefinition OtpLocked = new("otp_locked", 429);
    public static readonly ErrorDefinition InvalidToken = new("invalid_token", 401);
    public static readonly ErrorDefinition TokenReused = new("token_reused", 401);
    public static readonly ErrorDefinition AccountDisabled = new("account_disabled", 403);
    public static readonly ErrorDefinition InvalidIdToken = new("invalid_id_token", 401);
    public static readonly ErrorDefinition ProviderNotConfigured = new("provider_not_configured", 404);
    public static readonly ErrorDefinition IdentityInUse = new("identity_in_use", 409);
    /// <summary>
    /// A provider sign-in whose address an account holds, from a provider that does not run the mailbox: a code went to
    /// the address, and verifying it links the identity. Carries the challenge (<see cref="ApiError.Challenge"/>).
    /// </summary>
    public static readonly ErrorDefinition LinkRequired = new("link_required", 409);
    public static readonly ErrorDefinition LastSignInMethod = new("last_sign_in_method", 409);
    public static readonly ErrorDefinition EmailInUse = new("email_in_use", 409);
    public static readonly ErrorDefinition DuplicateAccount = new("duplicate_account", 409);
    public static readonly ErrorDefinition RegistrationLimit = new("registration_limit", 429);

    // Money.
    public static readonly ErrorDefinition CheckoutLocked = new("checkout_locked", 423);
    public static readonly ErrorDefinition InvalidCredit = new("invalid_credit", 402);
    public static readonly ErrorDefinition PaymentsNotConfigured = new("payments_not_configured", 404);
    public static readonly ErrorDefinition InvalidSignature = new("invalid_signature", 400);
    public static readonly ErrorDefinition WebhookApiVersionMismatch = new("webhook_api_version_mismatch", 422);
    public static readonly ErrorDefinition StoreNotConfigured = new("store_not_configured", 404);
    /// <summary>What the app sent as the store's signed purchase is not one: forged, truncated, another app's, or its chain is not the store's.</summary>
    public static readonly ErrorDefinition InvalidStoreTransaction = new("invalid_store_transaction", 400);
    /// <summary>A sandbox (test) purchase sent to a server that credits only real ones.</summary>
    public static readonly ErrorDefinition SandboxPurchaseRefused = new("sandbox_purchase_refused", 422);
    public static readonly ErrorDefinition UnknownStoreProduct = new("unknown_store_product", 422);
    /// <summary>The purchase is tied to another user (by the app, or by whoever sent it first).</summary>
    public static readonly ErrorDefinition PurchaseOfAnotherUser = new("purchase_of_another_user", 403);
    /// <summary>The store refunded or revoked the purchase: nothing is credited for it.</summary>
    public static readonly ErrorDefinition StorePurchaseRevoked = new("store_purchase_revoked", 422);
    /// <summary>Google Play does not know this purchase token for this product.</summary>
    public static readonly ErrorDefinition InvalidPurchaseToken = new("invalid_purchase_token", 400);
    /// <summary>The store has not been paid yet (a pending payment method): send the purchase again once it completes.</summary>
    public static readonly ErrorDefinition PurchasePending = new("purchase_pending", 409);
    /// <summary>The purchase was consumed without being credited here (by another server, or before this one knew the product).</summary>
    public static readonly ErrorDefinition PurchaseAlreadyConsumed = new("purchase_already_consumed", 409);

    // Features and AI.
    public static readonly ErrorDefinition FeatureDisabled = new("feature_disabled", 403);
    public static readonly ErrorDefinition AiNotConfigured = new("ai_not_configured", 404);
    public static readonly ErrorDefinition InvalidStreamToken = new("invalid_stream_token", 403);

    /// <summary>Not an HTTP answer: why a generation ended <c>failed</c>, in its view and its event stream (502: the provider failed us).</summary>
    public static readonly ErrorDefinition GenerationFailed = new("generation_failed", 502);

    // Files.
    public static readonly ErrorDefinition UnsupportedFileType = new("unsupported_file_type", 400, IsFieldError: true);
    public static readonly ErrorDefinition FileTooLarge = new("file_too_large", 400, IsFieldError: true);
    /// <summary>The upload would take the user's files, pending uploads included, beyond their role's quota.</summary>
    public static readonly ErrorDefinition StorageQuotaExceeded = new("storage_quota_exceeded", 409);
    public static readonly ErrorDefinition UploadIncomplete = new("upload_incomplete", 409);
    public static readonly ErrorDefinition UploadMismatch = new("upload_mismatch", 422);
    /// <summary>A field names a file the caller has not got (unknown, or another user's: the two are told alike).</summary>
    public static readonly ErrorDefinition FileNotFound = new("file_not_found", 400, IsFieldError: true);
    public static readonly ErrorDefinition NotAnImage = new("not_an_image", 400, IsFieldError: true);

    // Messages.
    /// <summary>The message is one apps must keep showing (a critical notice): it cannot be dismissed.</summary>
    public static readonly ErrorDefinition NotDismissible = new("not_dismissible", 409);
    /// <summary>An anonymous caller's dismissal is remembered per device: without X-Device-Id there is nothing to remember it by.</summary>
    public static readonly ErrorDefinition DeviceIdRequired = new("device_id_required", 400);

    // Idempotency-Key: a replay returns the first result; these are the two ways it cannot.
    public static readonly ErrorDefinition IdempotencyKeyReused = new("idempotency_key_reused", 422);
    public static readonly ErrorDefinition IdempotencyRequestInProgress = new("idempotency_request_in_progress", 409);

    /// <summary>All definitions, for the translation test, the OpenAPI document and the status-code mapping.</summary>
    public static IReadOnlyList<ErrorDefinition> All { get; } =
        typeof(ErrorCatalog).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(field => field.FieldType == typeof(ErrorDefinition))
            .Select(field => (ErrorDefinition)field.GetValue(null)!)
            .ToArray();

    /// <summary>The error for a response that a framework component ended with a bare status code.</summary>
    public static ErrorDefinition ForStatus(int status) => status switch
    {
        400 => ClientError,
        401 => NotAuthenticated,
        403 => PermissionDenied,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => Throttled,
        503 => ServiceUnavailable,
        >= 500 => ServerError,
        _ => ClientError,
    };
}
