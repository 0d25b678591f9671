namespace Apptork.Root.Admin.Audit;

/// <summary>The audit log's action names, stable: they are read by people and by later searches.</summary>
public static class AdminActions
{
    public const string StaffCreated = "staff.created";
    public const string StaffInvited = "staff.invited";
    public const string StaffEnrolled = "staff.enrolled";
    public const string StaffRoleChanged = "staff.role_changed";
    public const string StaffDisabled = "staff.disabled";
    public const string SignInSucceeded = "sign_in.succeeded";
    public const string SignInFailed = "sign_in.failed";
    public const string SignInLockedOut = "sign_in.locked_out";
    public const string SignedOut = "sign_in.signed_out";
    public const string WalletAdjusted = "wallet.adjusted";
    public const string UserBanned = "user.banned";
    public const string UserUnbanned = "user.unbanned";
    public const string UserSessionsRevoked = "user.sessions_revoked";
    public const string PurchaseRefunded = "purchase.refunded";
    public const string PackCreated = "pack.created";
    public const string PackUpdated = "pack.updated";
    public const string FlagCreated = "flag.created";
    public const string FlagUpdated = "flag.updated";
    public const string FlagDeleted = "flag.deleted";
    public const string MessageCreated = "message.created";
    public const string MessageUpdated = "message.updated";
    public const string MessageDeleted = "message.deleted";
    public const string DomainRuleCreated = "domain_rule.created";
    public const string DomainRuleDeleted = "domain_rule.deleted";
    public const string LedgerExported = "ledger.exported";
    public const string AuditExported = "audit.exported";
    public const string GenerationRetried = "generation.retried";
    public const string GenerationRefunded = "generation.refunded";
}
