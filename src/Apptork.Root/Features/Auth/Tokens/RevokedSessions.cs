using System.Collections.Concurrent;
using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Auth.Tokens;

/// <summary>
/// The sessions ended recently enough that access tokens of theirs may still be unexpired, known to every process: a
/// token of an ended session (signed out, replaced, account deleted or banned, refresh token stolen) is refused from
/// then on instead of living out its lifetime. Checking costs a lookup in memory, so validated tokens stay cached.
/// <para>
/// An ending is announced to every process at once (<see cref="ChangeBroadcast"/>); each process also reads the
/// sessions ended since its last look every <see cref="RefreshInterval"/>, which covers a missed announcement (Redis
/// down, an ending written by another command) and a process that just started.
/// </para>
/// </summary>
public sealed partial class RevokedSessions(
    ChangeBroadcast broadcast, IServiceScopeFactory scopes, IOptions<AuthOptions> options, RuntimeShape shape, TimeProvider time,
    ILogger<RevokedSessions> logger) : BackgroundService
{
    public const string Topic = "sessions-revoked";

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>Reads again a little before the last look, for endings whose transaction committed after it began.</summary>
    private static readonly TimeSpan CommitLag = TimeSpan.FromSeconds(30);

    /// <summary>Ended session → when the last access token it could have been issued expires; forgotten after that.</summary>
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> ended = new();

    /// <summary>The longest an access token issued before an ending can still be accepted.</summary>
    private TimeSpan TokenReach => TimeSpan.FromMinutes(options.Value.Jwt.AccessTokenMinutes) + AccessTokens.ClockSkew;

    /// <summary>A lock-free read (unlike <c>IsEmpty</c>, which locks every bucket of an empty dictionary): it runs on every request.</summary>
    public bool IsRevoked(Guid sessionId) => ended.ContainsKey(sessionId);

    /// <summary>Makes every process refuse these sessions' access tokens; in this one before it returns.</summary>
    public Task AnnounceAsync(IReadOnlyCollection<Guid> sessionIds)
    {
        if (sessionIds.Count == 0)
        {
            return Task.CompletedTask;
        }

        Remember(sessionIds, time.GetUtcNow());
        return broadcast.PublishAsync(Topic, string.Join(',', sessionIds));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!shape.Role.ServesApi())
        {
            return;
        }

        broadcast.Subscribe(Topic, message => Remember(message.Split(',').Select(Guid.Parse), time.GetUtcNow()));
        var since = time.GetUtcNow() - TokenReach;
        try
        {
            while (true)
            {
                var lookStartedAt = time.GetUtcNow();
                try
                {
                    await ReadEndedSinceAsync(since, stoppingToken);
                    since = lookStartedAt - CommitLag;
                    Forget(lookStartedAt);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRefreshFailed(logger, exception);
                }

                // The next look a whole interval after this one ended, not at fixed ticks: a clock moved a day ahead (a
                // test's) would fire a periodic timer for each of the 17,280 ticks it passed, each racing a read. Yielding
                // keeps the read off whatever thread completed the delay.
                await Task.Delay(RefreshInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, or a start that failed being disposed: nothing left to keep up to date.
        }
    }

    private async Task ReadEndedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var endings = await db.Sessions.AsNoTracking()
            .Where(session => session.RevokedAt > since)
            .Select(session => new { session.Id, session.RevokedAt })
            .ToListAsync(cancellationToken);
        foreach (var ending in endings)
        {
            ended.TryAdd(ending.Id, ending.RevokedAt!.Value + TokenReach);
        }
    }

    private void Remember(IEnumerable<Guid> sessionIds, DateTimeOffset endedAt)
    {
        foreach (var sessionId in sessionIds)
        {
            ended[sessionId] = endedAt + TokenReach;
        }
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var (sessionId, until) in ended)
        {
            if (until < now)
            {
                ended.TryRemove(sessionId, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the recently ended sessions; tokens of sessions ended on other processes are refused once it works again")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
