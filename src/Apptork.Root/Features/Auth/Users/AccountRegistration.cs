using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>
/// The one way an account comes into being, whichever sign-in creates it: deduplication's check, the user (and the
/// provider identity that opens it), the registration record and the signup bonus, in one transaction. A failure
/// anywhere leaves none of them, so an account never exists without its registration record (which later sign-ups are
/// deduplicated against) and a bonus never without its account.
/// </summary>
public sealed partial class AccountRegistration(
    RootDbContext db, UserManager<User> users, RegistrationGuard registrations, SignupBonus signupBonus, ILogger<AccountRegistration> logger)
{
    /// <summary>
    /// Creates <paramref name="user"/>, with <paramref name="login"/> when a provider identity opens it. Refusals of
    /// deduplication are thrown (<see cref="RegistrationGuard.CheckAsync"/>).
    /// </summary>
    /// <param name="emailKey">The canonical address the account holds and owns; null when it holds none it proved.</param>
    /// <returns>The user; null when a concurrent registration took one of its unique keys first (address, identity): nothing was written.</returns>
    public async Task<User?> RegisterAsync(User user, string? emailKey, UserLoginInfo? login, ClientInfo client, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var decision = await registrations.CheckAsync(emailKey, client, cancellationToken);
        if (!await IdentityWrites.SucceededAsync(() => users.CreateAsync(user), logger)
            || (login is not null && !await IdentityWrites.SucceededAsync(() => users.AddLoginAsync(user, login), logger)))
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return null;
        }

        await registrations.RecordAsync(user.Id, emailKey, client, decision, cancellationToken);
        await signupBonus.GrantAsync(user.Id, decision.BonusEligible, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return user;
    }
}
