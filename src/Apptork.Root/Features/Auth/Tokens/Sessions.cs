using System.Buffers.Text;
using System.Security.Cryptography;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Auth.Tokens;

/// <summary>Starts sessions and rotates, revokes and lists them: the only code that touches refresh tokens.</summary>
public sealed partial class Sessions(
    RootDbContext db, AccessTokens accessTokens, RevokedSessions revokedSessions, AuthKeys keys, IOptions<AuthOptions> options, TimeProvider time,
    ILogger<Sessions> logger)
{
    /// <summary>
    /// A phone that refreshes in the foreground and the background at once presents one token twice: within this
    /// window both get the same successor instead of the second one ending the session as a theft.
    /// </summary>
    public static readonly TimeSpan ReuseGraceWindow = TimeSpan.FromSeconds(45);

    private TimeSpan RefreshLifetime => TimeSpan.FromDays(options.Value.Jwt.RefreshTokenDays);

    public async Task<TokenPair> StartAsync(User user, string signInMethod, ClientInfo client, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (client.DeviceIdHash is not null)
        {
            // One session per device: signing in again on a phone replaces its previous session.
            await RevokeWhereAsync(session => session.UserId == user.Id && session.DeviceIdHash == client.DeviceIdHash, "replaced", cancellationToken);
        }

        var session = new Session
        {
            Id = Guid.CreateVersion7(),
            UserId = user.Id,
            DeviceIdHash = client.DeviceIdHash,
            Platform = client.Platform,
            AppVersion = client.AppVersion,
            UserAgent = client.UserAgent,
            SignInMethod = signInMethod,
            CreatedAt = now,
            ExpiresAt = now + RefreshLifetime,
            LastSeenAt = now,
        };
        var refreshToken = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        db.Sessions.Add(session);
        db.RefreshTokens.Add(new RefreshToken { Hash = Hash(refreshToken), SessionId = session.Id, CreatedAt = now });
        await db.SaveChangesAsync(cancellationToken);
        return Pair(user, session, refreshToken, now);
    }

    /// <summary>
    /// Rotates a refresh token. The claim on the presented token is one conditional UPDATE, so of two concurrent
    /// refreshes exactly one rotates; the successor is derived from the presented token with a server key, so the
    /// other one, within the grace window, hands out the very same successor. Any later use of a rotated token is
    /// theft or a bug, and ends the whole session.
    /// </summary>
    public async Task<TokenPair> RefreshAsync(string presented, CancellationToken cancellationToken)
    {
        var presentedHash = Hash(presented);
        var successor = Successor(presented);
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var claimed = await db.RefreshTokens
            .Where(token => token.Hash == presentedHash && token.RotatedAt == null)
            .ExecuteUpdateAsync(setters => setters.SetProperty(token => token.RotatedAt, now), cancellationToken);
        var token = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(token => token.Hash == presentedHash, cancellationToken)
            ?? throw ErrorCatalog.InvalidToken.ToException("refresh_token");
        var session = await db.Sessions.Include(session => session.User).SingleAsync(session => session.Id == token.SessionId, cancellationToken);

        if (session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            throw ErrorCatalog.InvalidToken.ToException("refresh_token");
        }

        if (!session.User!.CanSignIn)
        {
            await RevokeAsync(session, "disabled", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            throw ErrorCatalog.AccountDisabled.ToException();
        }

        if (claimed == 0)
        {
            var successorHash = Hash(successor);
            var successorIsCurrent = await db.RefreshTokens.AnyAsync(
                candidate => candidate.Hash == successorHash && candidate.RotatedAt == null, cancellationToken);
            if (!successorIsCurrent || now - token.RotatedAt!.Value > ReuseGraceWindow)
            {
                await RevokeAsync(session, "reuse", now, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                LogReuse(logger, session.Id, session.UserId);
                throw ErrorCatalog.TokenReused.ToException("refresh_token");
            }

            await transaction.CommitAsync(cancellationToken);
            return Pair(session.User, session, successor, now);
        }

        db.RefreshTokens.Add(new RefreshToken { Hash = Hash(successor), SessionId = session.Id, CreatedAt = now });
        session.LastSeenAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Pair(session.User, session, successor, now);
    }

    /// <summary>Ends the session a refresh token belongs to; unknown tokens are ignored so logout never fails.</summary>
    public async Task LogoutAsync(string presented, CancellationToken cancellationToken)
    {
        var presentedHash = Hash(presented);
        var sessionId = await db.RefreshTokens.Where(token => token.Hash == presentedHash).Select(token => (Guid?)token.SessionId)
            .SingleOrDefaultAsync(cancellationToken);
        if (sessionId is { } id)
        {
            await RevokeWhereAsync(session => session.Id == id, "logout", cancellationToken);
        }
    }

    public async Task<IReadOnlyList<SessionView>> ListAsync(Guid userId, Guid currentSessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessions = await db.Sessions.AsNoTracking()
            .Where(session => session.UserId == userId && session.RevokedAt == null && session.ExpiresAt > now)
            .ToListAsync(cancellationToken);
        return sessions.OrderByDescending(session => session.LastSeenAt)
            .Select(session => new SessionView(session.Id, session.Platform, session.AppVersion, session.UserAgent, session.SignInMethod,
                session.CreatedAt, session.LastSeenAt, session.ExpiresAt, session.Id == currentSessionId))
            .ToList();
    }

    /// <summary>Revokes one of the user's own sessions; another user's session id is simply not found.</summary>
    public async Task RevokeOwnAsync(Guid userId, Guid sessionId, CancellationToken cancellationToken)
    {
        var revoked = await RevokeWhereAsync(session => session.Id == sessionId && session.UserId == userId, "user", cancellationToken);
        if (revoked == 0 && !await db.Sessions.AnyAsync(session => session.Id == sessionId && session.UserId == userId, cancellationToken))
        {
            throw ErrorCatalog.NotFound.ToException();
        }
    }

    /// <summary>Ends every session of the user, but <paramref name="except"/> when given.</summary>
    public Task<int> RevokeAllAsync(Guid userId, string reason, CancellationToken cancellationToken, Guid? except = null) =>
        RevokeWhereAsync(session => session.UserId == userId && session.Id != except, reason, cancellationToken);

    /// <summary>Ends the sessions still open among <paramref name="which"/>, and their access tokens with them on every process.</summary>
    private async Task<int> RevokeWhereAsync(System.Linq.Expressions.Expression<Func<Session, bool>> which, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var open = await db.Sessions.Where(which).Where(session => session.RevokedAt == null).Select(session => session.Id).ToListAsync(cancellationToken);
        if (open.Count == 0)
        {
            return 0;
        }

        var revoked = await db.Sessions.Where(session => open.Contains(session.Id) && session.RevokedAt == null)
            .ExecuteUpdateAsync(setters => setters.SetProperty(session => session.RevokedAt, now).SetProperty(session => session.RevokedReason, reason), cancellationToken);
        await revokedSessions.AnnounceAsync(open);
        return revoked;
    }

    private async Task RevokeAsync(Session session, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        session.RevokedAt = now;
        session.RevokedReason = reason;
        await db.SaveChangesAsync(cancellationToken);
        await revokedSessions.AnnounceAsync([session.Id]);
    }

    private TokenPair Pair(User user, Session session, string refreshToken, DateTimeOffset now) => new(
        accessTokens.Issue(user, session.Id),
        refreshToken,
        "Bearer",
        (int)accessTokens.Lifetime.TotalSeconds,
        (int)Math.Max(0, (session.ExpiresAt - now).TotalSeconds),
        UserView.From(user));

    private string Successor(string presented) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(keys.RefreshKey, System.Text.Encoding.UTF8.GetBytes(presented)));

    private static byte[] Hash(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refresh token reuse: session {SessionId} of user {UserId} revoked")]
    private static partial void LogReuse(ILogger logger, Guid sessionId, Guid userId);
}

/// <summary>The sign-in response: a short-lived access token and the refresh token that renews it.</summary>
public sealed record TokenPair(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, int RefreshExpiresIn, UserView User);

public sealed record SessionView(
    Guid Id, string? Platform, string? AppVersion, string? UserAgent, string SignInMethod,
    DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, DateTimeOffset ExpiresAt, bool Current);
