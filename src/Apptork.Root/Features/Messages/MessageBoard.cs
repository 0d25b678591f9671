using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Semver;

namespace Apptork.Root.Features.Messages;

/// <summary>
/// The messages not yet ended, with their texts in every language, kept in memory: apps ask on every foreground, and
/// answering costs no database read (but the caller's dismissals). A change on any process is announced
/// (<see cref="ChangeBroadcast"/>) and the next read loads again; a board older than <see cref="MaxAge"/> is loaded again
/// too, which covers a missed announcement. Schedules and audiences are evaluated per request, on the injected clock, so
/// a message starts and ends on time whatever the board's age.
/// </summary>
public sealed class MessageBoard : IHostedService, IDisposable
{
    public const string Topic = "messages-changed";

    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly ChangeBroadcast broadcast;
    private readonly IServiceScopeFactory scopes;
    private readonly RuntimeShape shape;
    private readonly TimeProvider time;
    private readonly LiveSnapshot<IReadOnlyList<LiveMessage>> board;

    public MessageBoard(ChangeBroadcast broadcast, IServiceScopeFactory scopes, RuntimeShape shape, TimeProvider time, ILogger<MessageBoard> logger)
    {
        this.broadcast = broadcast;
        this.scopes = scopes;
        this.shape = shape;
        this.time = time;
        board = new LiveSnapshot<IReadOnlyList<LiveMessage>>("messages", MaxAge, (_, cancellationToken) => LoadAsync(cancellationToken), logger);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (shape.Role.ServesApi())
        {
            broadcast.Subscribe(Topic, _ => board.Invalidate());
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => board.Dispose();

    /// <summary>Makes every process read the messages again; this one before it returns.</summary>
    public Task AnnounceAsync(Guid messageId) => broadcast.PublishAsync(Topic, messageId.ToString());

    /// <summary>The messages not yet ended, highest priority then newest first (see <see cref="LiveSnapshot{T}"/> for when they are read).</summary>
    public ValueTask<IReadOnlyList<LiveMessage>> CurrentAsync(CancellationToken cancellationToken) => board.GetAsync(cancellationToken);

    private async Task<IReadOnlyList<LiveMessage>> LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var translations = scope.ServiceProvider.GetRequiredService<Translations>();
        var now = time.GetUtcNow();
        var rows = await db.Messages.AsNoTracking().Where(message => message.EndsAt == null || message.EndsAt > now).ToListAsync(cancellationToken);
        var texts = await translations.ReadAsync(MessageTexts.Owner, rows.Select(row => row.Id.ToString()).ToList(), cancellationToken);
        return rows.Select(row => LiveMessage.Of(row, texts))
            .OrderByDescending(message => message.Message.Priority)
            .ThenByDescending(message => message.Message.CreatedAt)
            .ThenByDescending(message => message.Message.Id)
            .ToList();
    }
}

/// <summary>A message as the board holds it: its row, its texts, and its audience parsed once.</summary>
public sealed record LiveMessage(
    Message Message, TranslatedText Title, TranslatedText Body, TranslatedText ActionLabel,
    IReadOnlySet<string> Platforms, IReadOnlySet<string> Roles, SemVersion? MinVersion, SemVersion? MaxVersion)
{
    public static LiveMessage Of(Message message, TranslatedFields texts)
    {
        var id = message.Id.ToString();
        return new LiveMessage(
            message,
            texts.Get(id, MessageTexts.Title),
            texts.Get(id, MessageTexts.Body),
            texts.Get(id, MessageTexts.ActionLabel),
            Split(message.Platforms),
            Split(message.Roles),
            AppVersions.Parse(message.MinAppVersion),
            AppVersions.Parse(message.MaxAppVersion));
    }

    /// <summary>Whether this caller sees it now (dismissals aside).</summary>
    public bool IsShownTo(MessageCaller caller, DateTimeOffset now)
    {
        if (Message.StartsAt > now || Message.EndsAt <= now)
        {
            return false;
        }

        if (Platforms.Count > 0 && (caller.Platform is null || !Platforms.Contains(caller.Platform)))
        {
            return false;
        }

        if (!AppVersions.InRange(caller.Version, MinVersion, MaxVersion))
        {
            return false;
        }

        var signInMatches = Message.SignIn switch
        {
            MessageSignIn.SignedIn => caller.SignedIn,
            MessageSignIn.Anonymous => !caller.SignedIn,
            _ => true,
        };
        return signInMatches && (Roles.Count == 0 || (caller.Role is not null && Roles.Contains(caller.Role)));
    }

    private static HashSet<string> Split(string values) =>
        values.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
}

/// <summary>Who asks, as far as audiences and dismissals care.</summary>
public sealed record MessageCaller(bool SignedIn, string? Role, string? Platform, SemVersion? Version, string? Dismisser)
{
    public static MessageCaller From(HttpContext context)
    {
        var client = ClientInfo.From(context);
        var user = context.User;
        var signedIn = user.Identity?.IsAuthenticated == true;
        var dismisser = signedIn ? $"user:{user.UserId()}" : client.DeviceIdHash is { } device ? $"device:{device}" : null;
        return new MessageCaller(signedIn, signedIn ? user.FindFirst(CurrentUser.RoleClaim)?.Value : null, client.Platform, AppVersions.Parse(client.AppVersion), dismisser);
    }
}
