using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Fraud;

/// <summary>
/// What was known about the client when an account was created (for deduplication). Kept when the account is
/// deleted, so a deleted account still counts; it therefore holds no address, only a keyed hash of it.
/// </summary>
public sealed class Registration
{
    public long Id { get; private set; }

    /// <summary>The account this registration created.</summary>
    public Guid UserId { get; init; }

    /// <summary>
    /// HMAC-SHA256 of the canonical address under <see cref="Auth.AuthKeys.RegistrationKey"/>: equal for two spellings
    /// of one mailbox, and not reversible from a list of addresses without the secret. Null when the account was
    /// created without an address it owns (a provider that is not the authority for the address it reports).
    /// </summary>
    public byte[]? EmailHash { get; init; }

    /// <summary>The hashed <c>X-Device-Id</c> (<see cref="ClientInfo.DeviceIdHash"/>), when the client sent one.</summary>
    public string? DeviceIdHash { get; init; }

    public string? Ip { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Whether the signup bonus may be granted to this account; false when the person or device had an account before.</summary>
    public bool BonusEligible { get; init; }
}

public sealed class RegistrationConfiguration : IEntityTypeConfiguration<Registration>
{
    /// <summary>An IPv6 address with an IPv4 tail, the longest text form.</summary>
    public const int MaxIpLength = 45;

    public void Configure(EntityTypeBuilder<Registration> builder)
    {
        builder.ToTable("registrations");
        builder.HasKey(registration => registration.Id);
        builder.HasOne<User>().WithMany().HasForeignKey(registration => registration.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(registration => registration.UserId);
        builder.Property(registration => registration.EmailHash).HasMaxLength(32);
        builder.HasIndex(registration => registration.EmailHash);
        builder.Property(registration => registration.DeviceIdHash).HasMaxLength(64);
        builder.HasIndex(registration => registration.DeviceIdHash);
        builder.Property(registration => registration.Ip).HasMaxLength(MaxIpLength);
        // The per-IP cap counts one address's registrations inside a recent window.
        builder.HasIndex(registration => new { registration.Ip, registration.CreatedAt });
    }
}
