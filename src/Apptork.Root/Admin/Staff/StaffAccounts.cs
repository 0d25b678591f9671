using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OtpNet;

namespace Apptork.Root.Admin.Staff;

/// <summary>What a sign-in attempt came to. Every refusal looks the same to the person signing in.</summary>
public abstract record SignInOutcome
{
    public sealed record SignedIn(StaffMember Staff) : SignInOutcome;

    /// <summary>The password was right but no TOTP is enrolled yet: enrolment goes on with a fresh link.</summary>
    public sealed record MustEnrol(string EnrolmentToken) : SignInOutcome;

    public sealed record Refused : SignInOutcome;
}

/// <summary>Staff accounts: creation with an enrolment link, enrolment (password, then TOTP), sign-in with lockout, and changes by a superuser.</summary>
public sealed class StaffAccounts(
    RootDbContext database,
    AdminAudit audit,
    TimeProvider time,
    IDataProtectionProvider protection,
    IOptions<AdminOptions> options)
{
    public const int MinPasswordLength = 12;
    public const int MaxPasswordLength = 128;
    public const int RecoveryCodeCount = 10;
    private const string Issuer = "Apptork Root";

    private static readonly PasswordHasher<StaffMember> Hasher = new();

    // Verified against when the email names no account, so a refusal takes as long whether or not the account exists.
    private static readonly string UnknownAccountHash = Hasher.HashPassword(new StaffMember(), Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));

    private readonly ExpiringTokens enrolmentTokens = new(protection, "Apptork.Root.Admin.Enrolment.v1");
    private readonly IDataProtector totpSecrets = protection.CreateProtector("Apptork.Root.Admin.TotpSecret.v1");

    private AdminOptions Settings => options.Value;

    public Task<List<StaffMember>> ListAsync(CancellationToken cancellationToken) =>
        database.StaffMembers.AsNoTracking().OrderBy(staff => staff.Email).ToListAsync(cancellationToken);

    /// <summary>A new account without a password, and the link that lets its owner enrol; null with an error text key when refused.</summary>
    public async Task<(StaffMember? Staff, string? EnrolmentToken, string? Error)> CreateAsync(
        string email, string role, AuditActor actor, string action, CancellationToken cancellationToken)
    {
        email = email.Trim();
        if (!IsEmail(email))
        {
            return (null, null, "ErrorEmailInvalid");
        }

        if (!StaffRoles.IsKnown(role))
        {
            return (null, null, "ErrorRoleInvalid");
        }

        var normalized = StaffMember.Normalize(email);
        if (await database.StaffMembers.AnyAsync(staff => staff.NormalizedEmail == normalized, cancellationToken))
        {
            return (null, null, "ErrorStaffExists");
        }

        var staff = new StaffMember { Id = Guid.CreateVersion7(), Email = email, NormalizedEmail = normalized, Role = role, CreatedAt = time.GetUtcNow() };
        database.StaffMembers.Add(staff);
        audit.Record(actor, action, Target(staff), after: new { staff.Email, staff.Role });
        try
        {
            await database.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            return (null, null, "ErrorStaffExists");
        }

        return (staff, IssueEnrolmentToken(staff), null);
    }

    /// <summary>The member an enrolment link belongs to while it is usable: unexpired, not yet completed, account not disabled.</summary>
    public async Task<StaffMember?> FindByEnrolmentTokenAsync(string? token, CancellationToken cancellationToken)
    {
        if (enrolmentTokens.Read(token)?.Split(':') is not [var rawId, var stamp] || !Guid.TryParseExact(rawId, "N", out var id))
        {
            return null;
        }

        var staff = await database.StaffMembers.SingleOrDefaultAsync(member => member.Id == id, cancellationToken);
        return staff is { DisabledAt: null, EnrolledAt: null } && staff.SecurityStamp == stamp ? staff : null;
    }

    /// <summary>Sets the password and draws a new TOTP secret to scan; an error text key when the password is refused.</summary>
    public async Task<string?> SetPasswordAsync(StaffMember staff, string? password, string? confirmation, CancellationToken cancellationToken)
    {
        if (PasswordError(staff, password, confirmation) is { } error)
        {
            return error;
        }

        staff.PasswordHash = Hasher.HashPassword(staff, password!);
        staff.ProtectedTotpSecret = totpSecrets.Protect(Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(20)));
        staff.LastTotpStep = null;
        await database.SaveChangesAsync(cancellationToken);
        return null;
    }

    public static string? PasswordError(StaffMember staff, string? password, string? confirmation)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinPasswordLength)
        {
            return "ErrorPasswordTooShort";
        }

        if (password.Length > MaxPasswordLength)
        {
            return "ErrorPasswordTooLong";
        }

        var localPart = staff.Email.Split('@')[0];
        if (password.Contains(staff.Email, StringComparison.OrdinalIgnoreCase) || (localPart.Length >= 4 && password.Contains(localPart, StringComparison.OrdinalIgnoreCase)))
        {
            return "ErrorPasswordIsEmail";
        }

        return password == confirmation ? null : "ErrorPasswordMismatch";
    }

    /// <summary>The secret to type by hand (Base32) and the URI an authenticator app reads from the QR code.</summary>
    public (string Secret, string Uri) TotpEnrolment(StaffMember staff)
    {
        var secret = totpSecrets.Unprotect(staff.ProtectedTotpSecret ?? throw new InvalidOperationException("No TOTP secret before a password is set."));
        var label = Uri.EscapeDataString($"{Issuer}:{staff.Email}");
        return (secret, $"otpauth://totp/{label}?secret={secret}&issuer={Uri.EscapeDataString(Issuer)}&algorithm=SHA1&digits=6&period=30");
    }

    /// <summary>
    /// Confirms the first code: the account is enrolled, its link spent (the stamp changes), and the recovery codes are
    /// returned to be shown once. Null when the code is wrong.
    /// </summary>
    public async Task<IReadOnlyList<string>?> CompleteEnrolmentAsync(StaffMember staff, string? code, AuditActor actor, CancellationToken cancellationToken)
    {
        if (staff.PasswordHash is null || !await AcceptTotpAsync(staff, code, cancellationToken))
        {
            return null;
        }

        var codes = Enumerable.Range(0, RecoveryCodeCount).Select(_ => NewRecoveryCode()).ToList();
        database.StaffRecoveryCodes.AddRange(codes.Select(recovery => new StaffRecoveryCode { StaffMemberId = staff.Id, CodeHash = HashRecoveryCode(recovery) }));
        staff.EnrolledAt = time.GetUtcNow();
        staff.SecurityStamp = StaffMember.NewSecurityStamp();
        audit.Record(actor with { StaffId = staff.Id, Email = staff.Email }, AdminActions.StaffEnrolled, Target(staff));
        await database.SaveChangesAsync(cancellationToken);
        return codes;
    }

    public async Task<SignInOutcome> SignInAsync(string? email, string? password, string? code, AuditActor client, CancellationToken cancellationToken)
    {
        var normalized = StaffMember.Normalize(email ?? string.Empty);
        var staff = normalized.Length is > 0 and <= StaffMember.MaxEmailLength
            ? await database.StaffMembers.SingleOrDefaultAsync(member => member.NormalizedEmail == normalized, cancellationToken)
            : null;
        var actor = client with { StaffId = staff?.Id, Email = staff?.Email ?? (email ?? string.Empty).Trim() };
        var now = time.GetUtcNow();
        if (staff is null || staff.PasswordHash is null || staff.DisabledAt is not null)
        {
            Hasher.VerifyHashedPassword(new StaffMember(), staff?.PasswordHash ?? UnknownAccountHash, password ?? string.Empty);
            return await RefuseAsync(actor, staff is null ? "unknown_account" : staff.DisabledAt is not null ? "disabled" : "not_enrolled", cancellationToken);
        }

        if (staff.LockoutEnd > now)
        {
            return await RefuseAsync(actor, "locked_out", cancellationToken);
        }

        if (Hasher.VerifyHashedPassword(staff, staff.PasswordHash, password ?? string.Empty) == PasswordVerificationResult.Failed)
        {
            return await FailAsync(staff, actor, "wrong_password", cancellationToken);
        }

        if (!staff.IsEnrolled)
        {
            // The password proves who this is; the TOTP step is still owed, so no session yet.
            staff.FailedSignIns = 0;
            await database.SaveChangesAsync(cancellationToken);
            return new SignInOutcome.MustEnrol(IssueEnrolmentToken(staff));
        }

        if (!await AcceptTotpAsync(staff, code, cancellationToken) && !await AcceptRecoveryCodeAsync(staff, code, cancellationToken))
        {
            return await FailAsync(staff, actor, "wrong_code", cancellationToken);
        }

        staff.FailedSignIns = 0;
        staff.LockoutEnd = null;
        audit.Record(actor, AdminActions.SignInSucceeded, Target(staff));
        await database.SaveChangesAsync(cancellationToken);
        return new SignInOutcome.SignedIn(staff);
    }

    /// <summary>The account behind a session, as it is now: null when it may no longer be used.</summary>
    public async Task<StaffMember?> FindActiveAsync(Guid id, string securityStamp, CancellationToken cancellationToken)
    {
        var staff = await database.StaffMembers.AsNoTracking().SingleOrDefaultAsync(member => member.Id == id, cancellationToken);
        return staff is { DisabledAt: null, IsEnrolled: true } && staff.SecurityStamp == securityStamp ? staff : null;
    }

    /// <summary>A superuser changes another member's role; refused when the form showed a role that has changed since.</summary>
    public async Task<string?> ChangeRoleAsync(Guid id, string role, string expectedRole, AuditActor actor, CancellationToken cancellationToken)
    {
        if (!StaffRoles.IsKnown(role))
        {
            return "ErrorRoleInvalid";
        }

        var staff = await database.StaffMembers.SingleOrDefaultAsync(member => member.Id == id, cancellationToken);
        if (staff is null || staff.Id == actor.StaffId)
        {
            return staff is null ? "ErrorStaffNotFound" : "ErrorNotOwnAccount";
        }

        if (staff.Role != expectedRole)
        {
            return "ErrorStaleForm";
        }

        if (staff.Role == role)
        {
            return null;
        }

        audit.Record(actor, AdminActions.StaffRoleChanged, Target(staff), new { staff.Role }, new { Role = role });
        staff.Role = role;
        await database.SaveChangesAsync(cancellationToken);
        return null;
    }

    /// <summary>Disables another member: its sessions end at their next request and it cannot sign in again.</summary>
    public async Task<string?> DisableAsync(Guid id, AuditActor actor, CancellationToken cancellationToken)
    {
        var staff = await database.StaffMembers.SingleOrDefaultAsync(member => member.Id == id, cancellationToken);
        if (staff is null || staff.Id == actor.StaffId)
        {
            return staff is null ? "ErrorStaffNotFound" : "ErrorNotOwnAccount";
        }

        if (staff.DisabledAt is not null)
        {
            return null;
        }

        staff.DisabledAt = time.GetUtcNow();
        staff.SecurityStamp = StaffMember.NewSecurityStamp();
        audit.Record(actor, AdminActions.StaffDisabled, Target(staff), new { Disabled = false }, new { Disabled = true });
        await database.SaveChangesAsync(cancellationToken);
        return null;
    }

    public string IssueEnrolmentToken(StaffMember staff) =>
        enrolmentTokens.Issue($"{staff.Id:N}:{staff.SecurityStamp}", time.GetUtcNow().AddHours(Settings.EnrolmentLinkHours));

    public static string Target(StaffMember staff) => $"staff:{staff.Id} {staff.Email}";

    private async Task<SignInOutcome> FailAsync(StaffMember staff, AuditActor actor, string why, CancellationToken cancellationToken)
    {
        staff.FailedSignIns++;
        audit.Record(actor, AdminActions.SignInFailed, Target(staff), reason: why);
        if (staff.FailedSignIns >= Settings.MaxFailedSignIns)
        {
            staff.FailedSignIns = 0;
            staff.LockoutEnd = time.GetUtcNow().AddMinutes(Settings.LockoutMinutes);
            audit.Record(actor, AdminActions.SignInLockedOut, Target(staff), after: new { staff.LockoutEnd });
        }

        await database.SaveChangesAsync(cancellationToken);
        return new SignInOutcome.Refused();
    }

    private async Task<SignInOutcome> RefuseAsync(AuditActor actor, string why, CancellationToken cancellationToken)
    {
        audit.Record(actor, AdminActions.SignInFailed, actor.StaffId is { } id ? $"staff:{id} {actor.Email}" : null, reason: why);
        await database.SaveChangesAsync(cancellationToken);
        return new SignInOutcome.Refused();
    }

    /// <summary>A current code (one step of clock drift either way), accepted once: the stored step only moves forward, atomically.</summary>
    private async Task<bool> AcceptTotpAsync(StaffMember staff, string? code, CancellationToken cancellationToken)
    {
        code = code?.Replace(" ", string.Empty, StringComparison.Ordinal);
        if (code is not { Length: 6 } || !code.All(char.IsAsciiDigit) || staff.ProtectedTotpSecret is null)
        {
            return false;
        }

        var totp = new Totp(Base32Encoding.ToBytes(totpSecrets.Unprotect(staff.ProtectedTotpSecret)));
        if (!totp.VerifyTotp(time.GetUtcNow().UtcDateTime, code, out var step, VerificationWindow.RfcSpecifiedNetworkDelay))
        {
            return false;
        }

        var claimed = await database.StaffMembers
            .Where(member => member.Id == staff.Id && (member.LastTotpStep == null || member.LastTotpStep < step))
            .ExecuteUpdateAsync(set => set.SetProperty(member => member.LastTotpStep, step), cancellationToken);
        staff.LastTotpStep = step;
        return claimed == 1;
    }

    private async Task<bool> AcceptRecoveryCodeAsync(StaffMember staff, string? code, CancellationToken cancellationToken)
    {
        var normalized = code?.Trim().Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        if (normalized is not { Length: 16 })
        {
            return false;
        }

        var hash = HashRecoveryCode(normalized);
        var now = time.GetUtcNow();
        return await database.StaffRecoveryCodes
            .Where(recovery => recovery.StaffMemberId == staff.Id && recovery.CodeHash == hash && recovery.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(recovery => recovery.UsedAt, now), cancellationToken) == 1;
    }

    // 16 characters of an alphabet without look-alikes (80 bits), shown as XXXX-XXXX-XXXX-XXXX.
    private static string NewRecoveryCode()
    {
        const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var code = RandomNumberGenerator.GetString(Alphabet, 16);
        return $"{code[..4]}-{code[4..8]}-{code[8..12]}-{code[12..]}";
    }

    private static string HashRecoveryCode(string code) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code.Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant())));

    private static bool IsEmail(string email) =>
        email.Length <= StaffMember.MaxEmailLength && MailAddress.TryCreate(email, out var address) && address.Address == email && email.Contains('.', StringComparison.Ordinal);
}
