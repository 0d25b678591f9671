using System.Globalization;
using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Files;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Auth.Account;

/// <summary>The signed-in user's own account: changing the email address, and taking all their data away.</summary>
public static class AccountEndpoints
{
    public static RouteGroupBuilder MapAccountEndpoints(this RouteGroupBuilder signedIn)
    {
        signedIn.MapPost("/me/email", RequestEmailChangeAsync).Validate<OtpRequestBody>().Throttle(ThrottleScopes.Otp)
            .ProducesErrors(ErrorCatalog.DisposableEmail, ErrorCatalog.OtpResendTooSoon)
            .WithName("auth_me_email_change").WithSummary("Change the email address")
            .WithDescription("Mails a code to the new address; whether it is taken is told only after the code.");
        signedIn.MapPost("/me/email/verify", VerifyEmailChangeAsync).Validate<OtpVerifyBody>().Throttle(ThrottleScopes.Otp)
            .ProducesErrors(
                ErrorCatalog.OtpExpired, ErrorCatalog.OtpSuperseded, ErrorCatalog.InvalidOtp, ErrorCatalog.OtpAttemptsExceeded, ErrorCatalog.OtpLocked,
                ErrorCatalog.EmailInUse)
            .WithName("auth_me_email_verify").WithSummary("Confirm the new email address")
            .WithDescription("Switches the account to the new address and tells the old one.");
        signedIn.MapGet("/me/export", ExportAsync)
            .WithName("auth_me_export").WithSummary("Export the account's data")
            .WithDescription("Everything the service keeps about the user, as one JSON document (data portability).");
        return signedIn;
    }

    private static async Task<Accepted<OtpRequested>> RequestEmailChangeAsync(
        OtpRequestBody body, HttpContext context, OtpService otp, CancellationToken cancellationToken) =>
        TypedResults.Accepted(
            (string?)null, await otp.RequestAsync(body.Email!, OtpPurpose.ChangeEmail, context.User.UserId(), CodeClient.From(context), cancellationToken));

    private static async Task<Ok<UserView>> VerifyEmailChangeAsync(
        OtpVerifyBody body, HttpContext context, OtpService otp, UserManager<User> users, SignInCodeMailer mailer, RootDbContext db, IFileStorage storage,
        CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var challenge = await otp.VerifyAsync(body.OtpToken!, body.Code!, userId, CodeClient.From(context), cancellationToken);
        var user = await users.FindByIdAsync(userId.ToString()) is { CanSignIn: true } found
            ? found
            : throw ErrorCatalog.AuthenticationFailed.ToException();
        var holder = await users.FindByEmailAsync(challenge.Email);
        if (holder is not null && holder.Id != user.Id)
        {
            throw ErrorCatalog.EmailInUse.ToException("email");
        }

        var previous = user.Email;
        user.Email = challenge.Email;
        user.EmailConfirmed = true;
        var updated = await users.UpdateAsync(user);
        if (!updated.Succeeded)
        {
            // The unique index caught a concurrent claim of the same address.
            throw ErrorCatalog.EmailInUse.ToException("email");
        }

        if (previous is not null && !string.Equals(previous, user.Email, StringComparison.OrdinalIgnoreCase))
        {
            mailer.SendEmailChangedNotice(previous, user.Email, CultureInfo.GetCultureInfo(user.Locale ?? "en"));
        }

        return TypedResults.Ok(await Avatars.ViewAsync(user, db, storage, cancellationToken));
    }

    /// <summary>
    /// Every table that holds something of the user's, whole: a person taking their data away gets all of it (GDPR
    /// art. 15 and 20). Not exported: secrets that are ours rather than theirs (token and code hashes), the operators'
    /// own notes (a generation's provider error, who made a manual ledger entry), and the short-lived replay copies of
    /// answers kept for Idempotency-Key, which repeat what is here.
    /// </summary>
    private static async Task<IResult> ExportAsync(
        HttpContext context, RootDbContext db, IFileStorage storage, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == userId && candidate.DeletedAt == null, cancellationToken)
            ?? throw ErrorCatalog.AuthenticationFailed.ToException();
        var identities = await db.UserLogins.AsNoTracking().Where(login => login.UserId == userId)
            .Select(login => new { provider = login.LoginProvider, subject = login.ProviderKey, name = login.ProviderDisplayName })
            .ToListAsync(cancellationToken);
        var sessions = await db.Sessions.AsNoTracking().Where(session => session.UserId == userId)
            .Select(session => new
            {
                session.Id, session.Platform, session.AppVersion, session.UserAgent, session.SignInMethod,
                session.CreatedAt, session.LastSeenAt, session.ExpiresAt, session.RevokedAt, session.RevokedReason,
            })
            .ToListAsync(cancellationToken);
        var signInCodes = await db.OtpChallenges.AsNoTracking()
            .Where(challenge => challenge.UserId == userId || (user.NormalizedEmail != null && challenge.EmailKey == user.NormalizedEmail))
            .Select(challenge => new { challenge.Email, challenge.Purpose, challenge.CreatedAt, challenge.ExpiresAt, challenge.FailedAttempts, challenge.ConsumedAt })
            .ToListAsync(cancellationToken);
        var wallet = await db.Wallets.AsNoTracking().Where(candidate => candidate.UserId == userId)
            .Select(candidate => new { candidate.Balance, candidate.Held, candidate.UpdatedAt })
            .SingleOrDefaultAsync(cancellationToken);
        var ledger = await db.LedgerEntries.AsNoTracking().Where(entry => entry.UserId == userId).OrderBy(entry => entry.Id)
            .Select(entry => new { entry.Id, entry.Amount, entry.HeldChange, entry.BalanceAfter, entry.Kind, entry.Reference, entry.Memo, entry.CreatedAt })
            .ToListAsync(cancellationToken);
        var payments = await db.Payments.AsNoTracking().Where(payment => payment.UserId == userId)
            .Select(payment => new
            {
                payment.Id, payment.PackId, payment.Credits, payment.Amount, payment.Currency, payment.Provider, payment.Flow, payment.Status,
                payment.ProviderSessionId, payment.ProviderPaymentId, payment.DeviceIdHash, payment.PaidAt, payment.AmountRefunded,
                payment.AmountDisputedLost, payment.CreditedAt, payment.CreditsReversed, payment.CreatedAt, payment.UpdatedAt,
            })
            .ToListAsync(cancellationToken);
        // The id as the table has it, whatever its type.
        var generations = await db.Generations.AsNoTracking().Where(generation => generation.UserId == userId)
            .Select(generation => new
            {
                generation.Id, generation.Type, generation.Status, generation.Prompt, generation.ImageSize, generation.MaxOutputTokens,
                generation.Cost, generation.Hold, generation.Attempts, generation.ResultText, generation.InputTokens, generation.OutputTokens,
                generation.ResultFileId, generation.CreatedAt, generation.UpdatedAt, generation.CompletedAt,
            })
            .ToListAsync(cancellationToken);
        var files = new List<FileView>();
        foreach (var file in await db.Files.AsNoTracking().Where(file => file.UserId == userId).ToListAsync(cancellationToken))
        {
            var download = file.Status == StoredFileStatus.Ready ? await storage.SignDownloadAsync(file.StorageKey, file.Filename, file.ContentType, cancellationToken) : null;
            files.Add(FileView.Of(file, download));
        }

        var registrations = await db.Registrations.AsNoTracking().Where(registration => registration.UserId == userId)
            .Select(registration => new { registration.CreatedAt, registration.Ip, registration.DeviceIdHash, registration.EmailHash, registration.BonusEligible })
            .ToListAsync(cancellationToken);
        var flags = await db.AccountFlags.AsNoTracking().Where(flag => flag.UserId == userId)
            .Select(flag => new { flag.Reason, flag.Reference, flag.Detail, flag.CreatedAt })
            .ToListAsync(cancellationToken);

        context.Response.Headers.ContentDisposition = $"attachment; filename=\"apptork-export-{userId:N}.json\"";
        return TypedResults.Ok(new
        {
            exported_at = time.GetUtcNow(),
            user = await Avatars.ViewAsync(user, db, storage, cancellationToken),
            identities,
            sessions = sessions.OrderByDescending(session => session.CreatedAt),
            sign_in_codes = signInCodes.OrderByDescending(challenge => challenge.CreatedAt),
            wallet = new { balance = wallet?.Balance ?? 0, updated_at = wallet?.UpdatedAt },
            ledger,
            payments = payments.OrderByDescending(payment => payment.CreatedAt),
            generations = generations.OrderByDescending(generation => generation.CreatedAt),
            files = files.OrderByDescending(file => file.CreatedAt),
            registrations,
            account_flags = flags.OrderByDescending(flag => flag.CreatedAt),
        });
    }
}
