using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Platform.Persistence;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>
/// What an operator does to an account from outside it. A ban: from then on the account can neither sign in nor
/// refresh, and the access tokens it holds are refused within a second on every process (its sessions end).
/// </summary>
public sealed class AccountControls(RootDbContext db, Sessions sessions, TimeProvider time)
{
    /// <summary>Bans the account (again, harmlessly, if it is already); the number of sessions ended.</summary>
    public async Task<int> BanAsync(User user, CancellationToken cancellationToken)
    {
        // Marked first: a refresh racing the revocation below then finds the account disabled and ends its session itself.
        user.DisabledAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return await sessions.RevokeAllAsync(user.Id, "banned", cancellationToken);
    }

    /// <summary>Changes the role; when it changes, ends the sessions (their tokens carry the old role). The number ended.</summary>
    public async Task<int> SetRoleAsync(User user, string role, CancellationToken cancellationToken)
    {
        if (user.Role == role)
        {
            return 0;
        }

        user.Role = role;
        await db.SaveChangesAsync(cancellationToken);
        return await sessions.RevokeAllAsync(user.Id, "role_changed", cancellationToken);
    }

    /// <summary>Lets the account sign in again; the sessions the ban ended stay ended.</summary>
    public async Task LiftAsync(User user, CancellationToken cancellationToken)
    {
        user.DisabledAt = null;
        await db.SaveChangesAsync(cancellationToken);
    }
}
