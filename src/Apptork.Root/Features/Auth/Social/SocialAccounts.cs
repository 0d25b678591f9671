using System.Globalization;
using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Decides which account a verified provider identity opens. Identities are keyed by (provider, subject), never by
/// email: an address can change hands, a subject cannot. An address only ever merges accounts when the provider is
/// the authority for it; see <see cref="EmailTrust"/>.
/// </summary>
public sealed class SocialAccounts(
    RootDbContext db, UserManager<User> users, TimeProvider time, AccountRegistration registration, OtpService otp, ILogger<SocialAccounts> logger)
{
    /// <summary>
    /// The account of this identity, creating or linking it on first use. Two first sign-ins racing for one identity
    /// or one address meet at the database's unique keys; the loser starts over once and finds the winner's account.
    /// </summary>
    public async Task<(User User, bool IsNew)> SignInAsync(ProviderProfile profile, ClientInfo client, CodeClient codeClient, CancellationToken cancellationToken)
    {
        if (await TrySignInAsync(profile, client, codeClient, cancellationToken) is { } first)
        {
            return first;
        }

        db.ChangeTracker.Clear();
        return await TrySignInAsync(profile, client, codeClient, cancellationToken)
            ?? throw new InvalidOperationException($"A {profile.Provider} sign-in could not be written twice in a row.");
    }

    /// <summary>
    /// Links the identity to the signed-in <paramref name="user"/>: nothing to do when it is already theirs, and
    /// <c>identity_in_use</c> when it opens someone else's account (it stays there: taking it would move a person's
    /// sign-in to an account they never chose).
    /// </summary>
    public async Task<User> LinkAsync(User user, ProviderProfile profile)
    {
        var owner = await users.FindByLoginAsync(profile.Provider, profile.Subject);
        if (owner is null)
        {
            if (await IdentityWrites.SucceededAsync(() => users.AddLoginAsync(user, Login(profile)), logger))
            {
                return user;
            }

            db.ChangeTracker.Clear();
            owner = await users.FindByLoginAsync(profile.Provider, profile.Subject) ?? throw ErrorCatalog.Conflict.ToException();
        }

        return owner.Id == user.Id ? owner : throw ErrorCatalog.IdentityInUse.ToException();
    }

    /// <summary>
    /// Links the identity a <c>link_required</c> challenge held back, now that its code showed the mailbox is read by
    /// whoever signed in with the provider. Only while the account still has that address: the code proved the mailbox,
    /// and the mailbox is what ties the identity to the account.
    /// </summary>
    public async Task<User> CompleteLinkAsync(OtpChallenge challenge)
    {
        var account = await users.FindByEmailAsync(challenge.Email);
        if (account is null || account.Id != challenge.UserId)
        {
            throw ErrorCatalog.OtpExpired.ToException("code");
        }

        if (!account.CanSignIn)
        {
            throw ErrorCatalog.AccountDisabled.ToException();
        }

        var identity = new ProviderProfile(
            challenge.PendingProvider!, challenge.PendingSubject!, challenge.PendingEmail, EmailTrust.Verified, challenge.PendingDisplayName);
        return await LinkAsync(account, identity);
    }

    /// <summary>One attempt; null when a write lost a race with a concurrent sign-in.</summary>
    private async Task<(User, bool)?> TrySignInAsync(ProviderProfile profile, ClientInfo client, CodeClient codeClient, CancellationToken cancellationToken)
    {
        if (await users.FindByLoginAsync(profile.Provider, profile.Subject) is { } owner)
        {
            return owner.CanSignIn ? (owner, false) : throw ErrorCatalog.AccountDisabled.ToException();
        }

        // An unverified address is not looked up at all: it proves nothing, and answering differently when it
        // belongs to an account would tell anyone who types an address into a provider profile who our users are.
        if (profile.Trust != EmailTrust.Unverified && await users.FindByEmailAsync(profile.Email!) is { } sameAddress)
        {
            if (!sameAddress.CanSignIn)
            {
                throw ErrorCatalog.AccountDisabled.ToException();
            }

            // Seamless merging only where the provider runs the mailbox: its word is worth an email code. A merely
            // "verified" address may have changed hands since the provider checked it, so whoever signs in must show
            // they read the mailbox now: a code goes to it, and verifying it links the identity.
            if (profile.Trust != EmailTrust.Authoritative)
            {
                throw await LinkRequiredAsync(sameAddress, profile, codeClient, cancellationToken);
            }

            return await IdentityWrites.SucceededAsync(() => users.AddLoginAsync(sameAddress, Login(profile)), logger) ? (sameAddress, false) : null;
        }

        var user = NewUser(profile);
        // Deduplication counts the address only when the account holds it, i.e. when the signer proved they own it.
        var emailKey = user.Email is not null && EmailNormalizer.TryNormalize(user.Email, out var email) ? email.CanonicalKey : null;
        return await registration.RegisterAsync(user, emailKey, Login(profile), client, cancellationToken) is { } created ? (created, true) : null;
    }

    /// <summary>
    /// <c>link_required</c>, carrying the challenge of the code just mailed to the account's address. Nothing is linked
    /// yet: the identity waits in the challenge.
    /// </summary>
    private async Task<ApiException> LinkRequiredAsync(User account, ProviderProfile profile, CodeClient codeClient, CancellationToken cancellationToken)
    {
        var challenge = await otp.RequestLinkAsync(
            account.Email!, account.Id, new PendingIdentity(profile.Provider, profile.Subject, profile.VerifiedEmail, profile.DisplayName), codeClient,
            cancellationToken);
        return new ApiException([new ApiError(ErrorCatalog.LinkRequired, null, Challenge: challenge)]);
    }

    /// <summary>
    /// The account takes the provider's address only when the provider is its authority. Anything less would let a
    /// person pre-register someone else's address through a provider account that merely claims it: the real owner,
    /// signing in later by email code, would land in an account the squatter still opens through the provider. So an
    /// unproven address is not stored at all, and its owner gets an account of their own when they arrive.
    /// </summary>
    private User NewUser(ProviderProfile profile)
    {
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            DisplayName = profile.DisplayName,
            Locale = CultureInfo.CurrentUICulture.Name,
            CreatedAt = time.GetUtcNow(),
        };
        user.UserName = user.Id.ToString("N");
        if (profile.Trust == EmailTrust.Authoritative)
        {
            user.Email = profile.Email;
            user.EmailConfirmed = true;
        }

        return user;
    }

    private static UserLoginInfo Login(ProviderProfile profile) => new(profile.Provider, profile.Subject, profile.VerifiedEmail);
}
