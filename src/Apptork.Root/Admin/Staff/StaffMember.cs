using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Admin.Staff;

/// <summary>
/// An operator of the control plane: an account of its own, never an app user, so no app sign-in path (mailed codes,
/// social providers, bearer tokens) can reach it.
/// </summary>
public sealed class StaffMember
{
    public const int MaxEmailLength = 254;

    public Guid Id { get; set; }

    public string Email { get; set; } = string.Empty;

    /// <summary>Upper-case invariant, unique: the sign-in lookup.</summary>
    public string NormalizedEmail { get; set; } = string.Empty;

    public string Role { get; set; } = StaffRoles.Support;

    /// <summary>Null until the member sets one through an enrolment link: no account ever has a default password.</summary>
    public string? PasswordHash { get; set; }

    public int FailedSignIns { get; set; }

    public DateTimeOffset? LockoutEnd { get; set; }

    /// <summary>The TOTP secret, encrypted with Data Protection; a database dump alone cannot produce codes.</summary>
    public string? ProtectedTotpSecret { get; set; }

    /// <summary>The TOTP time step last accepted, so one code signs in once.</summary>
    public long? LastTotpStep { get; set; }

    /// <summary>Set when the member confirmed a TOTP code; nothing but enrolment is open before.</summary>
    public DateTimeOffset? EnrolledAt { get; set; }

    /// <summary>Changes on enrolment and disabling: it ends enrolment links and sessions issued before.</summary>
    public string SecurityStamp { get; set; } = NewSecurityStamp();

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DisabledAt { get; set; }

    public bool IsEnrolled => EnrolledAt is not null && PasswordHash is not null && ProtectedTotpSecret is not null;

    public static string NewSecurityStamp() => Guid.NewGuid().ToString("N");

    public static string Normalize(string email) => email.Trim().ToUpperInvariant();
}

public sealed class StaffMemberConfiguration : IEntityTypeConfiguration<StaffMember>
{
    public void Configure(EntityTypeBuilder<StaffMember> builder)
    {
        builder.ToTable("staff_members");
        builder.HasKey(staff => staff.Id);
        builder.Property(staff => staff.Email).HasMaxLength(StaffMember.MaxEmailLength);
        builder.Property(staff => staff.NormalizedEmail).HasMaxLength(StaffMember.MaxEmailLength);
        builder.HasIndex(staff => staff.NormalizedEmail).IsUnique().HasDatabaseName("ux_staff_members_normalized_email");
        builder.Property(staff => staff.Role).HasMaxLength(20);
        builder.ToTable(table => table.HasCheckConstraint(
            "ck_staff_members_role", $"role IN ({string.Join(", ", StaffRoles.All.Select(role => $"'{role}'"))})"));
        builder.Property(staff => staff.PasswordHash).HasMaxLength(200);
        builder.Property(staff => staff.ProtectedTotpSecret).HasMaxLength(1000);
        builder.Property(staff => staff.SecurityStamp).HasMaxLength(32);
    }
}
