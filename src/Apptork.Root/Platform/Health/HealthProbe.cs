using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// A row the health page's database check writes and deletes at once, so the check proves the database takes writes
/// (a full disk, a read-only replica after a failover, a revoked grant), which a <c>SELECT 1</c> does not.
/// </summary>
public sealed class HealthProbe
{
    public Guid Id { get; set; }

    public DateTimeOffset WrittenAt { get; set; }
}

public sealed class HealthProbeConfiguration : IEntityTypeConfiguration<HealthProbe>
{
    public void Configure(EntityTypeBuilder<HealthProbe> builder)
    {
        builder.ToTable("health_probes");
        builder.HasKey(probe => probe.Id);
        builder.Property(probe => probe.Id).ValueGeneratedNever();
    }
}
