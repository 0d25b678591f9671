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
    public const string GenerationRetried = "generation.retried";
    public const string GenerationRefunded = "generation.refunded";
}
