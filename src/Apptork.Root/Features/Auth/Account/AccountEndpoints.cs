using System.Globalization;
using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
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
        TypedResults.Accepted((string?)null, await otp.RequestAsync(body.Email!, OtpPurpose.ChangeEmail, context.User.UserId(), cancellationToken));

    private static async Task<Ok<UserView>> VerifyEmailChangeAsync(
        OtpVerifyBody body, HttpContext context, OtpService otp, UserManager<User> users, SignInCodeMailer mailer, RootDbContext db, IFileStorage storage,
        CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var challenge = await otp.VerifyAsync(body.OtpToken!, body.Code!, OtpPurpose.ChangeEmail, cancellationToken);
        if (challenge.UserId != userId)
        {
            throw ErrorCatalog.Invalid.ToException("otp_token");
        }

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

    private static async Task<IResult> ExportAsync(HttpContext context, RootDbContext db, TimeProvider time, CancellationToken cancellationToken)
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
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"apptork-export-{userId:N}.json\"";
        return TypedResults.Ok(new
        {
            exported_at = time.GetUtcNow(),
            user = UserView.From(user),
            identities,
            sessions = sessions.OrderByDescending(session => session.CreatedAt),
        });
    }
}
