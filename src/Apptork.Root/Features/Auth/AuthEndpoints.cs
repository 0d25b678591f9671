using System.Text.Json.Serialization;
using Apptork.Root.Features.Auth.Account;
using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Social;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Platform.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth;

public static class AuthEndpoints
{
    public static RouteGroupBuilder MapAuthEndpoints(this RouteGroupBuilder auth)
    {
        auth.WithTags("Auth");
        auth.MapPost("/otp/request", RequestOtpAsync).Validate<OtpRequestBody>().Throttle(ThrottleScopes.Otp)
            .ProducesErrors(ErrorCatalog.DisposableEmail, ErrorCatalog.OtpResendTooSoon)
            .WithName("auth_otp_request").WithSummary("Request a sign-in code")
            .WithDescription("Mails a one-time sign-in code; the answer is the same whether or not an account exists.");
        auth.MapPost("/otp/verify", VerifyOtpAsync).Validate<OtpVerifyBody>().Throttle(ThrottleScopes.Otp)
            .ProducesErrors(
                ErrorCatalog.OtpExpired, ErrorCatalog.OtpSuperseded, ErrorCatalog.InvalidOtp, ErrorCatalog.OtpAttemptsExceeded, ErrorCatalog.OtpLocked,
                ErrorCatalog.AccountDisabled, ErrorCatalog.IdentityInUse, ErrorCatalog.Conflict)
            .WithName("auth_otp_verify").WithSummary("Sign in with the code")
            .WithDescription(
                "Exchanges the code for a token pair; creates the account on first sign-in. Also takes the challenge of a provider sign-in's "
                + "link_required error: the code links that provider to the account of the address and signs into it.");
        auth.MapPost("/token/refresh", RefreshAsync).Validate<RefreshTokenBody>()
            .ProducesErrors(ErrorCatalog.InvalidToken, ErrorCatalog.TokenReused, ErrorCatalog.AccountDisabled)
            .WithName("auth_token_refresh").WithSummary("Refresh the tokens")
            .WithDescription("Rotates a refresh token. A token used twice outside a short grace window ends its session.");
        auth.MapPost("/logout", LogoutAsync).Validate<RefreshTokenBody>()
            .WithName("auth_logout").WithSummary("Sign out")
            .WithDescription("Ends the session of a refresh token.");

        auth.MapGet("/whoami", WhoAmI).AcceptsOptionalToken()
            .WithName("auth_whoami").WithSummary("Read the access token")
            .WithDescription("What the presented access token says, read from its claims alone (no database): cheap for clients to poll.");

        var signedIn = auth.MapGroup(string.Empty).RequireAuthorization();
        signedIn.MapGet("/sessions", ListSessionsAsync)
            .WithName("auth_sessions_list").WithSummary("List sessions")
            .WithDescription("The signed-in user's active sessions, one per device.");
        signedIn.MapDelete("/sessions", RevokeAllSessionsAsync)
            .WithName("auth_sessions_delete_all").WithSummary("Sign out everywhere")
            .WithDescription(
                "Ends every session of the user (with keep_current=true, every other one): their refresh tokens stop working, and "
                + "their access tokens are refused within a second on every server.");
        signedIn.MapDelete("/sessions/{id:guid}", RevokeSessionAsync)
            .WithName("auth_sessions_delete").WithSummary("End a session")
            .WithDescription("Ends one of the user's sessions.");
        signedIn.MapGet("/me", GetMeAsync).ProducesErrors(ErrorCatalog.AccountDisabled)
            .WithName("auth_me_get").WithSummary("Get the account")
            .WithDescription("The signed-in user's account.");
        signedIn.MapPatch("/me", UpdateMeAsync).Validate<UpdateMeBody>()
            .ProducesErrors(ErrorCatalog.AccountDisabled, ErrorCatalog.FileNotFound, ErrorCatalog.NotAnImage, ErrorCatalog.UploadIncomplete)
            .WithName("auth_me_update").WithSummary("Update the account")
            .WithDescription(
                "Changes the display name, the locale or the avatar: a field left out stays as it is; a null display name or locale too, "
                + "an empty display name clears it, and a null avatar_file_id removes the avatar.");
        signedIn.MapAccountEndpoints();
        signedIn.MapDelete("/me", DeleteMeAsync)
            .WithName("auth_me_delete").WithSummary("Delete the account")
            .WithDescription("Deletes the account: sessions revoked, personal data erased, ledger kept anonymous.");
        auth.MapSocialEndpoints();
        return auth;
    }

    /// <summary>The public keys that verify access tokens, for any JWT library.</summary>
    public static IEndpointRouteBuilder MapJwks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/.well-known/jwks.json", (AuthKeys keys, HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=300";
            return TypedResults.Json(new { keys = keys.SigningKeys.Select(PublicJwk.From) });
        }).WithTags("Auth").WithName("auth_jwks").WithSummary("Get the token signing keys")
            .WithDescription("JSON Web Key Set of the access-token signing keys.");
        return endpoints;
    }

    private static async Task<Accepted<OtpRequested>> RequestOtpAsync(
        OtpRequestBody body, OtpService otp, HttpContext context, CancellationToken cancellationToken) =>
        TypedResults.Accepted((string?)null, await otp.RequestAsync(body.Email!, OtpPurpose.SignIn, null, CodeClient.From(context), cancellationToken));

    private static async Task<Ok<SignedIn>> VerifyOtpAsync(
        OtpVerifyBody body, OtpService otp, SocialAccounts accounts, Sessions sessions, HttpContext context, CancellationToken cancellationToken)
    {
        var challenge = await otp.VerifyAsync(body.OtpToken!, body.Code!, null, CodeClient.From(context), cancellationToken);
        if (challenge.Purpose == OtpPurpose.LinkProvider)
        {
            // The second call of a provider sign-in that needed the mailbox proven: the session is the provider's.
            var user = await accounts.CompleteLinkAsync(challenge);
            var tokens = await sessions.StartAsync(user, challenge.PendingProvider!, ClientInfo.From(context), cancellationToken);
            return TypedResults.Ok(SignedIn.From(new OtpSignIn(tokens, IsNewUser: false)));
        }

        return TypedResults.Ok(SignedIn.From(await otp.SignInAsync(challenge, ClientInfo.From(context), cancellationToken)));
    }

    private static async Task<Ok<TokenPair>> RefreshAsync(RefreshTokenBody body, Sessions sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sessions.RefreshAsync(body.RefreshToken!, cancellationToken));

    private static async Task<NoContent> LogoutAsync(RefreshTokenBody body, Sessions sessions, CancellationToken cancellationToken)
    {
        await sessions.LogoutAsync(body.RefreshToken!, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Ok<WhoAmIView> WhoAmI(HttpContext context)
    {
        var principal = context.User;
        if (principal.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Ok(new WhoAmIView(false, null, null, null, null));
        }

        var expires = long.TryParse(principal.FindFirst(JwtRegisteredClaimNames.Exp)?.Value, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : (DateTimeOffset?)null;
        return TypedResults.Ok(new WhoAmIView(true, principal.UserId(), principal.SessionId(), principal.FindFirst(CurrentUser.RoleClaim)?.Value, expires));
    }

    /// <summary>In the list shape of every collection; a user has one session per device, so it is always one page.</summary>
    private static async Task<Ok<CursorPage<SessionView>>> ListSessionsAsync(HttpContext context, Sessions sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(new CursorPage<SessionView>(await sessions.ListAsync(context.User.UserId(), context.User.SessionId(), cancellationToken), null));

    private static async Task<NoContent> RevokeAllSessionsAsync(
        HttpContext context, Sessions sessions, CancellationToken cancellationToken, [FromQuery(Name = "keep_current")] bool keepCurrent = false)
    {
        await sessions.RevokeAllAsync(context.User.UserId(), "signed_out_everywhere", cancellationToken, keepCurrent ? context.User.SessionId() : null);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> RevokeSessionAsync(Guid id, HttpContext context, Sessions sessions, CancellationToken cancellationToken)
    {
        await sessions.RevokeOwnAsync(context.User.UserId(), id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<UserView>> GetMeAsync(HttpContext context, RootDbContext db, IFileStorage storage, CancellationToken cancellationToken) =>
        TypedResults.Ok(await Avatars.ViewAsync(await SignedInUserAsync(context, db, cancellationToken), db, storage, cancellationToken));

    private static async Task<Ok<UserView>> UpdateMeAsync(
        UpdateMeBody body, HttpContext context, RootDbContext db, IFileStorage storage, CancellationToken cancellationToken)
    {
        var user = await SignedInUserAsync(context, db, cancellationToken);
        if (body.ChangesAvatar)
        {
            if (body.AvatarFileId is { } fileId)
            {
                await Avatars.EnsureUsableAsync(user.Id, fileId, db, cancellationToken);
            }

            user.AvatarFileId = body.AvatarFileId;
        }

        if (body.DisplayName is not null)
        {
            user.DisplayName = body.DisplayName.Trim() is { Length: > 0 } name ? name : null;
        }

        if (body.Locale is not null)
        {
            user.Locale = body.Locale;
        }

        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await Avatars.ViewAsync(user, db, storage, cancellationToken));
    }

    private static async Task<NoContent> DeleteMeAsync(
        HttpContext context, RootDbContext db, Sessions sessions, TimeProvider time, [FromServices] IEnumerable<IAccountDeletionHook> deletionHooks,
        CancellationToken cancellationToken)
    {
        var user = await SignedInUserAsync(context, db, cancellationToken);
        foreach (var hook in deletionHooks)
        {
            await hook.BeforeErasureAsync(user, cancellationToken);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await sessions.RevokeAllAsync(user.Id, "deleted", cancellationToken);
        await db.UserLogins.Where(login => login.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        await db.UserClaims.Where(claim => claim.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        await db.UserTokens.Where(token => token.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        // The device and address hashes must outlive the account (a deleted account still counts for the signup bonus);
        // the IP address is personal data with no such need.
        await db.Registrations.Where(registration => registration.UserId == user.Id)
            .ExecuteUpdateAsync(setters => setters.SetProperty(registration => registration.Ip, (string?)null), cancellationToken);
        user.Email = null;
        user.NormalizedEmail = null;
        user.DisplayName = null;
        user.Locale = null;
        user.PhoneNumber = null;
        user.AvatarFileId = null;
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        user.DeletedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>The user behind a valid access token; one deleted or banned since the token was issued is refused.</summary>
    internal static async Task<User> SignedInUserAsync(HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var user = await db.Users.SingleOrDefaultAsync(candidate => candidate.Id == userId, cancellationToken);
        return user switch
        {
            null or { DeletedAt: not null } => throw ErrorCatalog.AuthenticationFailed.ToException(),
            { DisabledAt: not null } => throw ErrorCatalog.AccountDisabled.ToException(),
            _ => user,
        };
    }

    public sealed record SignedIn(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, int RefreshExpiresIn, UserView User, bool IsNewUser)
    {
        public static SignedIn From(OtpSignIn result) => new(
            result.Tokens.AccessToken, result.Tokens.RefreshToken, result.Tokens.TokenType, result.Tokens.ExpiresIn,
            result.Tokens.RefreshExpiresIn, result.Tokens.User, result.IsNewUser);
    }

    public sealed record WhoAmIView(bool Authenticated, Guid? UserId, Guid? SessionId, string? Role, DateTimeOffset? ExpiresAt);

    /// <summary>
    /// Only the public half of a signing key, built field by field so a private parameter can never slip out. Each key
    /// carries only the members its type defines (RFC 7518 §6): strict JWK parsers refuse an EC key with an "n".
    /// </summary>
    private sealed record PublicJwk(
        string Kty,
        string Kid,
        string Use,
        string Alg,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Crv,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? X,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Y,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? N,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? E)
    {
        public static PublicJwk From(SecurityKey key) => key switch
        {
            ECDsaSecurityKey ec when ec.ECDsa.ExportParameters(false) is var p => new PublicJwk(
                "EC", key.KeyId, "sig", AuthKeys.Algorithm(key), "P-256", Base64UrlEncoder.Encode(p.Q.X!), Base64UrlEncoder.Encode(p.Q.Y!), null, null),
            RsaSecurityKey rsa when rsa.Rsa.ExportParameters(false) is var p => new PublicJwk(
                "RSA", key.KeyId, "sig", AuthKeys.Algorithm(key), null, null, null, Base64UrlEncoder.Encode(p.Modulus!), Base64UrlEncoder.Encode(p.Exponent!)),
            _ => throw new InvalidOperationException($"Unsupported signing key {key.GetType().Name}."),
        };
    }
}
