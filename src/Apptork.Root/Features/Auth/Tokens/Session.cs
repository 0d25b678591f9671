using Apptork.Root.Features.Auth.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Auth.Tokens;

/// <summary>
/// A signed-in device: the family of refresh tokens that one sign-in started. Revoking it ends every token of the
/// family at its next refresh.
/// </summary>
public sealed class Session
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    /// <summary>SHA-256 of the client's <c>X-Device-Id</c>: one session per device, without keeping the raw id.</summary>
    public string? DeviceIdHash { get; set; }

    public string? Platform { get; set; }

    public string? AppVersion { get; set; }

    public string? UserAgent { get; set; }

    /// <summary><c>email</c>, <c>google</c>, <c>apple</c> or <c>github</c>.</summary>
    public required string SignInMethod { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Absolute end: sign-in time plus the refresh lifetime, never extended by refreshing.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedReason { get; set; }
}

/// <summary>One refresh token of a session, kept by hash; a rotated one stays to recognise its reuse.</summary>
public sealed class RefreshToken
{
    public required byte[] Hash { get; set; }

    public Guid SessionId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RotatedAt { get; set; }
}

public sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.ToTable("sessions");
        builder.HasKey(session => session.Id);
        builder.HasOne(session => session.User).WithMany().HasForeignKey(session => session.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(session => new { session.UserId, session.RevokedAt });
        // Every api process reads the sessions ended since its last look, every few seconds.
        builder.HasIndex(session => session.RevokedAt);
        builder.Property(session => session.DeviceIdHash).HasMaxLength(64);
        builder.Property(session => session.Platform).HasMaxLength(16);
        builder.Property(session => session.AppVersion).HasMaxLength(32);
        builder.Property(session => session.UserAgent).HasMaxLength(256);
        builder.Property(session => session.SignInMethod).HasMaxLength(16);
        builder.Property(session => session.RevokedReason).HasMaxLength(32);
    }
}

public sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.HasKey(token => token.Hash);
        builder.Property(token => token.Hash).HasMaxLength(32);
        builder.HasOne<Session>().WithMany().HasForeignKey(token => token.SessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(token => token.SessionId);
    }
}
