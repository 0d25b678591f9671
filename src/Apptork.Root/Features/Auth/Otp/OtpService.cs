using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Features.Auth.Social;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Throttling;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Auth.Otp;

/// <summary>Email one-time codes: issuing a challenge, and verifying it into a session.</summary>
public sealed partial class OtpService(
    RootDbContext db,
    AuthKeys keys,
    IOptions<AuthOptions> options,
    TimeProvider time,
    Sessions sessions,
    UserManager<User> users,
    AccountEmails accountEmails,
    SignInCodeMailer mailer,
    Throttler throttler,
    AccountRegistration registration)
{
    private const int CodeDigits = 6;

    private OtpOptions Settings => options.Value.Otp;

    /// <summary>
    /// Issues a code for an address without looking at accounts at all, so the answer, its timing and its headers are
    /// the same whether or not someone has an account: nothing here can be used to find out who is a user.
    /// </summary>
    public Task<OtpRequested> RequestAsync(string rawEmail, OtpPurpose purpose, Guid? userId, CodeClient client, CancellationToken cancellationToken) =>
        IssueAsync(rawEmail, purpose, userId, null, client, cancellationToken);

    /// <summary>
    /// Mails the account's address a code that links <paramref name="identity"/> to the account once verified: whoever
    /// signs in with the provider must show they read the mailbox now. The resend window and the budgets are the sign-in
    /// codes' own, so a provider sign-in is no way around them.
    /// </summary>
    public Task<OtpRequested> RequestLinkAsync(
        string accountEmail, Guid accountId, PendingIdentity identity, CodeClient client, CancellationToken cancellationToken) =>
        IssueAsync(accountEmail, OtpPurpose.LinkProvider, accountId, identity, client, cancellationToken);

    private async Task<OtpRequested> IssueAsync(
        string rawEmail, OtpPurpose purpose, Guid? userId, PendingIdentity? identity, CodeClient client, CancellationToken cancellationToken)
    {
        var email = await accountEmails.AcceptAsync(rawEmail, "email", cancellationToken);
        var now = time.GetUtcNow();
        await RefuseResendTooSoonAsync(email.Key, purpose, now, cancellationToken);
        // The client's own budget first, so a client over it spends nothing of the address's ceiling: a stranger asking
        // for codes from elsewhere uses up their budget, not the owner's.
        foreach (var partition in client.PartitionsFor(email.Key))
        {
            await throttler.HitAsync(ThrottleScopes.Otp, ThrottleRoles.EmailClient, partition, cancellationToken);
        }

        // Per address, whichever clients the requests come from: nobody gets an inbox flooded with codes.
        var ceiling = await throttler.HitAsync(ThrottleScopes.Otp, ThrottleRoles.Email, email.Key, cancellationToken);
        if (ceiling is { Verdict: ThrottleVerdict.Allowed, Remaining: 0 })
        {
            // Only the request that reaches the ceiling, so the owner hears of it once per window.
            mailer.SendCodesPausedNotice(email.Address, now + ceiling.ResetAfter, CultureInfo.CurrentUICulture);
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var code = RandomNumberGenerator.GetInt32(0, (int)Math.Pow(10, CodeDigits)).ToString(new string('0', CodeDigits), CultureInfo.InvariantCulture);
        var challenge = new OtpChallenge
        {
            Id = Guid.CreateVersion7(),
            TokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(token)),
            Email = email.Address,
            EmailKey = email.Key,
            CodeMac = [],
            Purpose = purpose,
            UserId = userId,
            PendingProvider = identity?.Provider,
            PendingSubject = identity?.Subject,
            PendingEmail = identity?.Email,
            PendingDisplayName = identity?.DisplayName,
            Locale = CultureInfo.CurrentUICulture.Name,
            CreatedAt = now,
            ExpiresAt = now.AddMinutes(Settings.LifetimeMinutes),
        };
        challenge.CodeMac = CodeMac(challenge.Id, code);

        // A new code replaces the older ones for the same address: only the latest mail works.
        await db.OtpChallenges
            .Where(older => older.EmailKey == email.Key && older.Purpose == purpose && older.ConsumedAt == null)
            .ExecuteUpdateAsync(setters => setters.SetProperty(older => older.ConsumedAt, now), cancellationToken);
        db.OtpChallenges.Add(challenge);
        await db.SaveChangesAsync(cancellationToken);

        if (identity is null)
        {
            mailer.SendCode(email.Address, code, Settings.LifetimeMinutes, CultureInfo.CurrentUICulture);
        }
        else
        {
            mailer.SendLinkCode(email.Address, code, SocialProviders.BrandName(identity.Provider), Settings.LifetimeMinutes, CultureInfo.CurrentUICulture);
        }

        RootMetrics.OtpCodeSent(purpose switch { OtpPurpose.SignIn => "sign_in", OtpPurpose.ChangeEmail => "change_email", _ => "link_provider" });
        return new OtpRequested(token, Settings.LifetimeMinutes * 60, Settings.ResendAfterSeconds);
    }

    /// <summary>Checks a code against its challenge; consumes the challenge exactly once when it matches.</summary>
    /// <param name="userId">
    /// The signed-in account an email change is for: another account's challenge is unknown. Null at the public verify,
    /// which takes sign-in and provider-link challenges, whose token and code are the whole credential.
    /// </param>
    public async Task<OtpChallenge> VerifyAsync(string otpToken, string code, Guid? userId, CodeClient client, CancellationToken cancellationToken)
    {
        var tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(otpToken));
        // Whose challenge it is is part of finding it: someone else's token is refused before its code is tried, so it
        // can neither use nor spend the owner's code.
        var candidates = db.OtpChallenges.AsNoTracking().Where(candidate => candidate.TokenHash == tokenHash);
        candidates = userId is null
            ? candidates.Where(candidate => candidate.Purpose == OtpPurpose.SignIn || candidate.Purpose == OtpPurpose.LinkProvider)
            : candidates.Where(candidate => candidate.Purpose == OtpPurpose.ChangeEmail && candidate.UserId == userId);
        var challenge = await candidates.SingleOrDefaultAsync(cancellationToken) ?? throw ErrorCatalog.Invalid.ToException("otp_token");
        foreach (var partition in client.PartitionsFor(challenge.EmailKey))
        {
            await throttler.HitAsync(ThrottleScopes.Otp, ThrottleRoles.EmailVerify, partition, cancellationToken);
        }

        var now = time.GetUtcNow();
        if (challenge.ConsumedAt is not null && await IsSupersededAsync(challenge, cancellationToken))
        {
            throw Refused(ErrorCatalog.OtpSuperseded);
        }

        if (challenge.ConsumedAt is not null || challenge.ExpiresAt <= now)
        {
            throw Refused(ErrorCatalog.OtpExpired);
        }

        if (challenge.FailedAttempts >= Settings.MaxAttempts)
        {
            throw Refused(ErrorCatalog.OtpAttemptsExceeded);
        }

        await RefuseWhenClientBudgetSpentAsync(challenge.EmailKey, client, cancellationToken);
        await RefuseWhenBudgetSpentAsync(challenge.EmailKey, now, cancellationToken);

        if (!CryptographicOperations.FixedTimeEquals(CodeMac(challenge.Id, code), challenge.CodeMac))
        {
            await CountFailureAsync(challenge, client, now, cancellationToken);
        }

        // The single use: of two concurrent verifies with the right code, only one consumes the challenge.
        var consumed = await db.OtpChallenges
            .Where(candidate => candidate.Id == challenge.Id && candidate.ConsumedAt == null && candidate.FailedAttempts < Settings.MaxAttempts)
            .ExecuteUpdateAsync(setters => setters.SetProperty(candidate => candidate.ConsumedAt, now), cancellationToken);
        if (consumed != 1)
        {
            throw Refused(ErrorCatalog.OtpExpired);
        }

        RootMetrics.OtpCodeVerified();
        return challenge;
    }

    /// <summary>A code refused at verification, counted by the error answered.</summary>
    private static ApiException Refused(ErrorDefinition error)
    {
        RootMetrics.OtpCodeFailed(error.Code);
        return error.ToException("code");
    }

    /// <summary>
    /// Signs in with a verified challenge: the account with that canonical address, or a new one if deduplication
    /// allows it. Its refusals come only here, after the caller proved they own the mailbox.
    /// </summary>
    public async Task<OtpSignIn> SignInAsync(OtpChallenge challenge, ClientInfo client, CancellationToken cancellationToken)
    {
        var user = await users.FindByEmailAsync(challenge.Email);
        var isNew = user is null;
        if (user is null)
        {
            user = await registration.RegisterAsync(NewUser(challenge), challenge.EmailKey, login: null, client, cancellationToken)
                ?? await RaceWinnerAsync(challenge);
        }
        else if (!user.CanSignIn)
        {
            throw ErrorCatalog.AccountDisabled.ToException();
        }

        var pair = await sessions.StartAsync(user, "email", client, cancellationToken);
        return new OtpSignIn(pair, isNew);
    }

    /// <summary>The account the mailbox's owner just proved: its address confirmed, in the language they asked for the code in.</summary>
    private User NewUser(OtpChallenge challenge)
    {
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = challenge.Email,
            EmailConfirmed = true,
            Locale = challenge.Locale,
            CreatedAt = time.GetUtcNow(),
        };
        user.UserName = user.Id.ToString("N");
        return user;
    }

    /// <summary>The account a concurrent first sign-in created, and recorded the registration of.</summary>
    private async Task<User> RaceWinnerAsync(OtpChallenge challenge) =>
        await users.FindByEmailAsync(challenge.Email) is { } existing && existing.CanSignIn
            ? existing
            : throw new InvalidOperationException("A first sign-in could neither create the account nor find the one that won the race.");

    /// <summary>
    /// Within the resend window of a code still waiting to be used, no new code is mailed and the waiting one stays valid:
    /// a double tap or an impatient retry must not retire the code already on its way. The refusal depends only on
    /// earlier requests for the address, never on accounts, so it tells nobody who is a user.
    /// </summary>
    private async Task RefuseResendTooSoonAsync(string emailKey, OtpPurpose purpose, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var windowStart = now.AddSeconds(-Settings.ResendAfterSeconds);
        var latest = await db.OtpChallenges.AsNoTracking()
            .Where(candidate => candidate.EmailKey == emailKey && candidate.Purpose == purpose && candidate.CreatedAt > windowStart
                && candidate.ConsumedAt == null && candidate.ExpiresAt > now && candidate.FailedAttempts < Settings.MaxAttempts)
            .Select(candidate => (DateTimeOffset?)candidate.CreatedAt)
            .MaxAsync(cancellationToken);
        if (latest is null)
        {
            return;
        }

        var wait = latest.Value.AddSeconds(Settings.ResendAfterSeconds) - now;
        throw new ApiException(
            [ErrorCatalog.OtpResendTooSoon.At("email", new Dictionary<string, object?> { ["wait"] = (long)Math.Ceiling(wait.TotalSeconds) })], wait);
    }

    /// <summary>
    /// Whether a newer request retired this challenge (rather than a verify using it): the newer challenge was created
    /// at the very instant this one was retired, as <see cref="RequestAsync"/> writes both with one timestamp.
    /// </summary>
    private Task<bool> IsSupersededAsync(OtpChallenge challenge, CancellationToken cancellationToken) =>
        db.OtpChallenges.AnyAsync(
            newer => newer.EmailKey == challenge.EmailKey && newer.Purpose == challenge.Purpose && newer.Id != challenge.Id
                && newer.CreatedAt == challenge.ConsumedAt,
            cancellationToken);

    /// <summary>
    /// The client's own wrong codes for this address: once they are spent, this client is locked out of the address, and
    /// nobody else is. The address-wide ceiling (<see cref="RefuseWhenBudgetSpentAsync"/>) bounds all clients together.
    /// </summary>
    private async Task RefuseWhenClientBudgetSpentAsync(string emailKey, CodeClient client, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.Zero;
        foreach (var partition in client.PartitionsFor(emailKey))
        {
            switch (await throttler.PeekAsync(ThrottleScopes.Otp, ThrottleRoles.FailedCodes, partition, cancellationToken))
            {
                case { Verdict: ThrottleVerdict.Unavailable } unavailable:
                    throw unavailable.ToException();
                case { Verdict: ThrottleVerdict.Refused } spent when spent.ResetAfter > wait:
                    wait = spent.ResetAfter;
                    break;
            }
        }

        if (wait > TimeSpan.Zero)
        {
            throw new ApiException(
                [ErrorCatalog.OtpLocked.At("code", new Dictionary<string, object?> { ["wait"] = (long)Math.Ceiling(wait.TotalSeconds) })], wait);
        }
    }

    private async Task RefuseWhenBudgetSpentAsync(string emailKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var windowStart = now.AddHours(-Settings.BudgetWindowHours);
        var recent = await db.OtpChallenges.AsNoTracking()
            .Where(candidate => candidate.EmailKey == emailKey && candidate.CreatedAt > windowStart && candidate.FailedAttempts > 0)
            .Select(candidate => new { candidate.CreatedAt, candidate.FailedAttempts })
            .ToListAsync(cancellationToken);
        if (recent.Sum(candidate => candidate.FailedAttempts) < Settings.FailedVerifyBudget)
        {
            return;
        }

        var unlocksAt = recent.Min(candidate => candidate.CreatedAt).AddHours(Settings.BudgetWindowHours);
        var wait = unlocksAt - now;
        throw new ApiException(
            [ErrorCatalog.OtpLocked.At("code", new Dictionary<string, object?> { ["wait"] = (long)Math.Ceiling(wait.TotalSeconds) })], wait);
    }

    private async Task CountFailureAsync(OtpChallenge challenge, CodeClient client, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counted = await db.OtpChallenges
            .Where(candidate => candidate.Id == challenge.Id && candidate.FailedAttempts < Settings.MaxAttempts)
            .ExecuteUpdateAsync(setters => setters.SetProperty(candidate => candidate.FailedAttempts, candidate => candidate.FailedAttempts + 1), cancellationToken);
        foreach (var partition in client.PartitionsFor(challenge.EmailKey))
        {
            // Its verdict is read at the next try; should the store have gone away, that try fails closed.
            await throttler.TryHitAsync(ThrottleScopes.Otp, ThrottleRoles.FailedCodes, partition, cancellationToken);
        }

        var windowStart = now.AddHours(-Settings.BudgetWindowHours);
        var spent = await db.OtpChallenges
            .Where(candidate => candidate.EmailKey == challenge.EmailKey && candidate.CreatedAt > windowStart)
            .SumAsync(candidate => candidate.FailedAttempts, cancellationToken);
        if (spent == Settings.FailedVerifyBudget)
        {
            // Exactly at the crossing, so the owner hears of it once per lock, not at every further try.
            mailer.SendLockNotice(challenge.Email, now.AddHours(Settings.BudgetWindowHours), CultureInfo.CurrentUICulture);
        }

        throw Refused(counted == 0 || challenge.FailedAttempts + 1 >= Settings.MaxAttempts ? ErrorCatalog.OtpAttemptsExceeded : ErrorCatalog.InvalidOtp);
    }

    private byte[] CodeMac(Guid challengeId, string code) =>
        HMACSHA256.HashData(keys.OtpKey, Encoding.UTF8.GetBytes($"{challengeId:N}:{code}"));
}

public sealed record OtpRequested(string OtpToken, int ExpiresIn, int ResendAfter);

public sealed record OtpSignIn(TokenPair Tokens, bool IsNewUser);
