using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Auth.Otp;

/// <summary>
/// One emailed code. The client holds an opaque token whose hash finds the challenge; the code itself is stored only
/// as an HMAC keyed with the server secret and bound to this challenge's id.
/// </summary>
public sealed class OtpChallenge
{
    public Guid Id { get; set; }

    public required byte[] TokenHash { get; set; }

    /// <summary>The address as typed (cleaned): where the code was sent.</summary>
    public required string Email { get; set; }

    /// <summary>The canonical address: what accounts, budgets and deduplication are keyed on.</summary>
    public required string EmailKey { get; set; }

    public required byte[] CodeMac { get; set; }

    public OtpPurpose Purpose { get; set; }

    /// <summary>For an email change: the account that asked; for a provider link: the account to link to.</summary>
    public Guid? UserId { get; set; }

    /// <summary>For a provider link: the identity held back until the code proves the mailbox (<see cref="PendingIdentity"/>).</summary>
    public string? PendingProvider { get; set; }

    public string? PendingSubject { get; set; }

    /// <summary>The address the provider verified, shown beside the identity once linked.</summary>
    public string? PendingEmail { get; set; }

    public string? PendingDisplayName { get; set; }

    public string? Locale { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public int FailedAttempts { get; set; }

    /// <summary>Set when the code was used, or when a newer request for the same address superseded it.</summary>
    public DateTimeOffset? ConsumedAt { get; set; }
}

public enum OtpPurpose
{
    SignIn,
    ChangeEmail,

    /// <summary>A provider identity whose address an account holds, from a provider that does not run the mailbox.</summary>
    LinkProvider,
}

/// <summary>A verified provider identity waiting for the code that links it to the account of its address.</summary>
public sealed record PendingIdentity(string Provider, string Subject, string? Email, string? DisplayName);

public sealed class OtpChallengeConfiguration : IEntityTypeConfiguration<OtpChallenge>
{
    public void Configure(EntityTypeBuilder<OtpChallenge> builder)
    {
        builder.ToTable("otp_challenges");
        builder.HasKey(challenge => challenge.Id);
        builder.Property(challenge => challenge.TokenHash).HasMaxLength(32);
        builder.HasIndex(challenge => challenge.TokenHash).IsUnique();
        builder.Property(challenge => challenge.Email).HasMaxLength(320);
        builder.Property(challenge => challenge.EmailKey).HasMaxLength(320);
        builder.HasIndex(challenge => new { challenge.EmailKey, challenge.CreatedAt });
        builder.Property(challenge => challenge.CodeMac).HasMaxLength(32);
        builder.Property(challenge => challenge.Purpose).HasConversion<string>().HasMaxLength(20);
        builder.Property(challenge => challenge.Locale).HasMaxLength(10);
        builder.Property(challenge => challenge.PendingProvider).HasMaxLength(20);
        builder.Property(challenge => challenge.PendingSubject).HasMaxLength(255);
        builder.Property(challenge => challenge.PendingEmail).HasMaxLength(320);
        builder.Property(challenge => challenge.PendingDisplayName).HasMaxLength(100);
    }
}
