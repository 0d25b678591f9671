using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>
/// An app user, on ASP.NET Core Identity's stores. Sign-in is passwordless (email codes, providers), so the password
/// columns stay empty. <see cref="IdentityUser{TKey}.NormalizedEmail"/> holds the canonical address (Gmail dots and
/// tags folded): it is the unique key of an account.
/// </summary>
public sealed class User : IdentityUser<Guid>
{
    public string? DisplayName { get; set; }

    /// <summary>Preferred language for mail and messages; one of the supported cultures.</summary>
    public string? Locale { get; set; }

    /// <summary>Throttling and feature role: <c>free</c>, <c>premium</c> or <c>staff</c>.</summary>
    public string Role { get; set; } = UserRoles.Free;

    /// <summary>
    /// One of the user's image files. No foreign key: deleting the file clears it in the same transaction
    /// (<c>FileDeletion</c>), and a reader that finds no such file shows no avatar.
    /// </summary>
    public Guid? AvatarFileId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Set by an operator's ban: sign-in and refresh are refused from then on.</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>Set when the user deletes the account; personal data is erased then, the row (and ledger) stay anonymous.</summary>
    public DateTimeOffset? DeletedAt { get; set; }

    public bool CanSignIn => DisabledAt is null && DeletedAt is null;
}

public static class UserRoles
{
    public const string Free = "free";
    public const string Premium = "premium";
    public const string Staff = "staff";
}

public sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.Property(user => user.DisplayName).HasMaxLength(100);
        builder.Property(user => user.Locale).HasMaxLength(10);
        builder.Property(user => user.Role).HasMaxLength(20);
        // Identity only checks uniqueness in code; two concurrent sign-ups must not both succeed.
        builder.HasIndex(user => user.NormalizedEmail).IsUnique().HasDatabaseName("ux_users_normalized_email");
        // Deleting a file clears the avatar that is this file.
        builder.HasIndex(user => user.AvatarFileId);
    }
}
