using Apptork.Root.Platform.Callers;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Localization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Messages;

/// <summary>
/// A system message operators broadcast to the apps: shown from <see cref="StartsAt"/> until <see cref="EndsAt"/> to the
/// callers its audience names. Its title, body and action label are translated (<see cref="MessageTexts"/>).
/// </summary>
public sealed class Message
{
    public const int MinPriority = 0;
    public const int MaxPriority = 1000;
    public const int MaxUrlLength = 2000;

    public Guid Id { get; set; }

    /// <summary>One of <see cref="MessageSeverities"/>.</summary>
    public required string Severity { get; set; }

    /// <summary>Where the action leads: an http(s) URL or an app deep link (<c>myapp://...</c>); no action when null.</summary>
    public string? ActionUrl { get; set; }

    public DateTimeOffset StartsAt { get; set; }

    /// <summary>Shown until then; for good when null.</summary>
    public DateTimeOffset? EndsAt { get; set; }

    /// <summary>Comma-separated <see cref="MessagePlatforms"/>; empty for every platform.</summary>
    public string Platforms { get; set; } = string.Empty;

    /// <summary>The lowest app version shown to (inclusive); no lower bound when null.</summary>
    public string? MinAppVersion { get; set; }

    /// <summary>The first app version no longer shown to (exclusive); no upper bound when null.</summary>
    public string? MaxAppVersion { get; set; }

    /// <summary>One of <see cref="MessageSignIn"/>.</summary>
    public string SignIn { get; set; } = MessageSignIn.Everyone;

    /// <summary>Comma-separated user roles; empty for every caller, otherwise signed-in users of these roles only.</summary>
    public string Roles { get; set; } = string.Empty;

    public bool Dismissible { get; set; } = true;

    /// <summary>Higher first.</summary>
    public int Priority { get; set; }

    public Guid CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public Guid UpdatedBy { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A caller's dismissal of a message: a user's, or an anonymous device's; it is not shown to them again.</summary>
public sealed class MessageDismissal
{
    public Guid MessageId { get; set; }

    /// <summary><c>user:{id}</c>, or <c>device:{hash of X-Device-Id}</c> for an anonymous caller.</summary>
    public required string Dismisser { get; set; }

    public DateTimeOffset DismissedAt { get; set; }
}

public static class MessageSeverities
{
    public const string Info = "info";
    public const string Warning = "warning";
    public const string Critical = "critical";

    public static readonly IReadOnlyList<string> All = [Info, Warning, Critical];
}

public static class MessagePlatforms
{
    public static readonly IReadOnlyList<string> All = ["ios", "android", "web"];
}

public static class MessageSignIn
{
    public const string Everyone = "everyone";
    public const string SignedIn = "signed_in";
    public const string Anonymous = "anonymous";

    public static readonly IReadOnlyList<string> All = [Everyone, SignedIn, Anonymous];
}

public static class MessageRoles
{
    public static readonly IReadOnlyList<string> All = [UserRoles.Free, UserRoles.Premium, UserRoles.Staff];
}

/// <summary>A message's translated fields, in the one table of translated texts.</summary>
public static class MessageTexts
{
    public static readonly TranslatedOwner Owner = new("message");
    public const string Title = "title";
    public const string Body = "body";
    public const string ActionLabel = "action_label";
    public const int MaxTitleLength = 200;
    public const int MaxBodyLength = 2000;
    public const int MaxActionLabelLength = 60;
}

public sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.ToTable("messages", table =>
            table.HasCheckConstraint("ck_messages_priority_range", $"priority >= {Message.MinPriority} AND priority <= {Message.MaxPriority}"));
        builder.HasKey(message => message.Id);
        builder.Property(message => message.Severity).HasMaxLength(16);
        builder.Property(message => message.ActionUrl).HasMaxLength(Message.MaxUrlLength);
        builder.Property(message => message.Platforms).HasMaxLength(64);
        builder.Property(message => message.MinAppVersion).HasMaxLength(AppVersions.MaxLength);
        builder.Property(message => message.MaxAppVersion).HasMaxLength(AppVersions.MaxLength);
        builder.Property(message => message.SignIn).HasMaxLength(16);
        builder.Property(message => message.Roles).HasMaxLength(64);
        // The operators' list, newest first; the apps' reads come from memory.
        builder.HasIndex(message => new { message.CreatedAt, message.Id });
        // What the in-memory board reloads: the messages not yet ended.
        builder.HasIndex(message => message.EndsAt);
    }
}

public sealed class MessageDismissalConfiguration : IEntityTypeConfiguration<MessageDismissal>
{
    public void Configure(EntityTypeBuilder<MessageDismissal> builder)
    {
        builder.ToTable("message_dismissals");
        // One row per caller and message: dismissing again changes nothing.
        builder.HasKey(dismissal => new { dismissal.MessageId, dismissal.Dismisser });
        builder.Property(dismissal => dismissal.Dismisser).HasMaxLength(80);
        // The per-request read: this caller's dismissals among the messages shown.
        builder.HasIndex(dismissal => dismissal.Dismisser);
        builder.HasOne<Message>().WithMany().HasForeignKey(dismissal => dismissal.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
