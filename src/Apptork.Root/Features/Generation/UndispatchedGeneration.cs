using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// A generation whose job is not yet in the job storage: written in the transaction that creates and charges the
/// generation, removed by <see cref="GenerationDispatcher"/> once its job is enqueued. Whatever process commits the
/// generation, and whenever it dies, the row says the job is still owed.
/// </summary>
public sealed class UndispatchedGeneration
{
    public Guid GenerationId { get; set; }

    /// <summary>The creating request's user and correlation id, which the job carries into its log lines as an enqueue from the request would.</summary>
    public Guid UserId { get; set; }

    public string? CorrelationId { get; set; }

    /// <summary>The creating request's span (W3C traceparent) while tracing records it, so the job's span links to it as an enqueue from the request would.</summary>
    public string? TraceParent { get; set; }
}

public sealed class UndispatchedGenerationConfiguration : IEntityTypeConfiguration<UndispatchedGeneration>
{
    public void Configure(EntityTypeBuilder<UndispatchedGeneration> builder)
    {
        builder.ToTable("undispatched_generations");
        builder.HasKey(undispatched => undispatched.GenerationId);
        builder.Property(undispatched => undispatched.GenerationId).ValueGeneratedNever();
        builder.Property(undispatched => undispatched.CorrelationId).HasMaxLength(64);
        builder.Property(undispatched => undispatched.TraceParent).HasMaxLength(64);
        builder.HasOne<Generation>().WithOne().HasForeignKey<UndispatchedGeneration>(undispatched => undispatched.GenerationId).OnDelete(DeleteBehavior.Cascade);
    }
}
