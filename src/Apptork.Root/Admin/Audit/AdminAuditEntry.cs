using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Admin.Audit;

/// <summary>
/// One thing that happened in the control plane: who, what, to what, the state before and after, why, when and from
/// where. Append-only in the database itself (triggers refuse UPDATE and DELETE), as the ledger is.
/// </summary>
public sealed class AdminAuditEntry
{
    public const int MaxEmailLength = 254;
    public const int MaxActionLength = 50;
    public const int MaxTargetLength = 300;
    public const int MaxStateLength = 4000;
    public const int MaxReasonLength = 1000;
    public const int MaxIpLength = 45;

    public long Id { get; set; }

    /// <summary>The acting staff member; null when a sign-in named no account, or for the command line's first superuser.</summary>
    public Guid? StaffId { get; set; }

    /// <summary>Kept as text so the row still says who it was if the account is renamed or removed.</summary>
    public string StaffEmail { get; set; } = string.Empty;

    /// <summary>One of <see cref="AdminActions"/>.</summary>
    public string Action { get; set; } = string.Empty;

    public string? Target { get; set; }

    /// <summary>JSON of the changed fields before the action.</summary>
    public string? Before { get; set; }

    /// <summary>JSON of the changed fields after the action.</summary>
    public string? After { get; set; }

    public string? Reason { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The client's address, after the trusted-proxy middleware; null for the command line.</summary>
    public string? Ip { get; set; }
}

public sealed class AdminAuditEntryConfiguration : IEntityTypeConfiguration<AdminAuditEntry>
{
    public void Configure(EntityTypeBuilder<AdminAuditEntry> builder)
    {
        builder.ToTable("admin_audit");
        builder.HasKey(entry => entry.Id);
        builder.Property(entry => entry.StaffEmail).HasMaxLength(AdminAuditEntry.MaxEmailLength);
        builder.Property(entry => entry.Action).HasMaxLength(AdminAuditEntry.MaxActionLength);
        builder.Property(entry => entry.Target).HasMaxLength(AdminAuditEntry.MaxTargetLength);
        builder.Property(entry => entry.Before).HasMaxLength(AdminAuditEntry.MaxStateLength);
        builder.Property(entry => entry.After).HasMaxLength(AdminAuditEntry.MaxStateLength);
        builder.Property(entry => entry.Reason).HasMaxLength(AdminAuditEntry.MaxReasonLength);
        builder.Property(entry => entry.Ip).HasMaxLength(AdminAuditEntry.MaxIpLength);
        builder.HasIndex(entry => new { entry.StaffId, entry.Id }).HasDatabaseName("ix_admin_audit_staff_id");
    }
}
