using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Admin.Staff;

/// <summary>
/// A one-use code that stands in for a TOTP code when the phone is lost. Only its SHA-256 is kept: the codes are long
/// random strings, so a fast hash is enough and a leaked table gives nothing to sign in with.
/// </summary>
public sealed class StaffRecoveryCode
{
    public long Id { get; set; }

    public Guid StaffMemberId { get; set; }

    public string CodeHash { get; set; } = string.Empty;

    public DateTimeOffset? UsedAt { get; set; }
}

public sealed class StaffRecoveryCodeConfiguration : IEntityTypeConfiguration<StaffRecoveryCode>
{
    public void Configure(EntityTypeBuilder<StaffRecoveryCode> builder)
    {
        builder.ToTable("staff_recovery_codes");
        builder.HasKey(code => code.Id);
        builder.Property(code => code.CodeHash).HasMaxLength(64);
        builder.HasIndex(code => new { code.StaffMemberId, code.CodeHash }).IsUnique().HasDatabaseName("ux_staff_recovery_codes_member_hash");
        builder.HasOne<StaffMember>().WithMany().HasForeignKey(code => code.StaffMemberId).OnDelete(DeleteBehavior.Cascade);
    }
}
