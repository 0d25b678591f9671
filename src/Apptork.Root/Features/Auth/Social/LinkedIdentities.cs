using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>The ways into an account: its confirmed email address (by code) and its linked provider identities.</summary>
public sealed class LinkedIdentities(RootDbContext db, UserManager<User> users, AppleTokens appleTokens)
{
    /// <summary>The way in by email code, listed beside the providers.</summary>
    public const string Email = "email";

    public async Task<IReadOnlyList<IdentityView>> ListAsync(User user)
    {
        var logins = await users.GetLoginsAsync(user);
        var byEmail = HasEmailWayIn(user) ? [new IdentityView(Email, user.Email)] : Array.Empty<IdentityView>();
        return byEmail
            .Concat(logins.OrderBy(login => login.LoginProvider, StringComparer.Ordinal).Select(login => new IdentityView(login.LoginProvider, login.ProviderDisplayName)))
            .ToList();
    }

    /// <summary>
    /// Removes every identity of <paramref name="provider"/> (or the email way in), never the last way in: an
    /// account nobody can open is lost to its owner. The user's concurrency stamp makes two concurrent removals of
    /// the last two ways in conflict instead of both succeeding.
    /// </summary>
    public async Task RemoveAsync(User user, string provider, CancellationToken cancellationToken)
    {
        var logins = await users.GetLoginsAsync(user);
        var removing = logins.Where(login => login.LoginProvider == provider).ToList();
        var hasEmail = HasEmailWayIn(user);
        var removingEmail = provider == Email && hasEmail;
        if (removing.Count == 0 && !removingEmail)
        {
            throw ErrorCatalog.NotFound.ToException();
        }

        var remaining = logins.Count - removing.Count + (hasEmail && !removingEmail ? 1 : 0);
        if (remaining == 0)
        {
            throw ErrorCatalog.LastSignInMethod.ToException();
        }

        AppleGrant? appleGrant = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            if (removingEmail)
            {
                Succeeded(await users.SetEmailAsync(user, null));
            }

            foreach (var login in removing)
            {
                Succeeded(await users.RemoveLoginAsync(user, login.LoginProvider, login.ProviderKey));
            }

            if (provider == SocialProviders.Apple)
            {
                appleGrant = await appleTokens.ForgetAsync(user);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        // Unlinked from Apple means no longer authorized at Apple either; only after the unlink is committed.
        if (appleGrant is not null)
        {
            await appleTokens.RevokeAsync(appleGrant, cancellationToken);
        }
    }

    private static bool HasEmailWayIn(User user) => user.Email is not null && user.EmailConfirmed;

    /// <summary>A concurrent change to the same account (its concurrency stamp moved) is a 409 the client can retry.</summary>
    private static void Succeeded(IdentityResult result)
    {
        if (result.Errors.Any(error => error.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
        {
            throw ErrorCatalog.Conflict.ToException();
        }

        result.ThrowIfFailed();
    }
}

/// <summary>One way into the account: <c>email</c>, <c>google</c>, <c>apple</c> or <c>github</c>, with the address it goes by.</summary>
public sealed record IdentityView(string Provider, string? Email);
