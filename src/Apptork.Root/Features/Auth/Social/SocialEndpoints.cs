using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apptork.Root.Features.Auth.Social;

public static class SocialEndpoints
{
    private static readonly ErrorDefinition[] SignInErrors =
    [
        ErrorCatalog.ProviderNotConfigured, ErrorCatalog.InvalidIdToken, ErrorCatalog.LinkRequired, ErrorCatalog.OtpResendTooSoon, ErrorCatalog.Throttled,
        ErrorCatalog.IdentityInUse, ErrorCatalog.AccountDisabled, ErrorCatalog.AuthenticationFailed, ErrorCatalog.Conflict, ErrorCatalog.ServiceUnavailable,
    ];

    public static RouteGroupBuilder MapSocialEndpoints(this RouteGroupBuilder auth)
    {
        const string Linking = " An existing account's address that the provider does not run answers 409 link_required: a code went to that address, "
            + "and verifying the challenge in the error at /auth/otp/verify links the provider and signs in."
            + " With a valid access token in the request, links the provider to that account instead.";
        auth.MapPost("/social/google", GoogleAsync).RequireProvider<GoogleSignIn>().Validate<GoogleSignInBody>().ProducesErrors(SignInErrors)
            .WithName("auth_social_google").WithSummary("Sign in with Google")
            .WithDescription("Signs in with a Google ID token; creates the account, or joins the one with the same Google-run address." + Linking);
        auth.MapPost("/social/apple", AppleAsync).RequireProvider<AppleSignIn>().Validate<AppleSignInBody>().ProducesErrors(SignInErrors)
            .WithName("auth_social_apple").WithSummary("Sign in with Apple")
            .WithDescription("Signs in with an Apple ID token; an authorization code lets the server revoke Apple's grant on account deletion." + Linking);
        auth.MapPost("/social/github", GitHubAsync).RequireProvider<GitHubSignIn>().Validate<GitHubSignInBody>().ProducesErrors(SignInErrors)
            .WithName("auth_social_github").WithSummary("Sign in with GitHub")
            .WithDescription("Signs in with a GitHub OAuth code (or an access token issued to our OAuth app)." + Linking);

        auth.MapGet("/identities", ListIdentitiesAsync).RequireAuthorization().ProducesErrors(ErrorCatalog.AccountDisabled)
            .WithName("auth_identities_list").WithSummary("List sign-in methods")
            .WithDescription("The ways into the account: its confirmed email address and its linked providers.");
        auth.MapDelete("/identities/{provider}", RemoveIdentityAsync).RequireAuthorization()
            .ProducesErrors(ErrorCatalog.NotFound, ErrorCatalog.LastSignInMethod, ErrorCatalog.Conflict, ErrorCatalog.AccountDisabled)
            .WithName("auth_identities_delete").WithSummary("Unlink a sign-in method")
            .WithDescription("Unlinks a provider (or the email way in); the last way into the account cannot be removed.");
        return auth;
    }

    private static async Task<Ok<AuthEndpoints.SignedIn>> GoogleAsync(
        GoogleSignInBody body, GoogleSignIn google, SocialAccounts accounts, Sessions sessions, RootDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var profile = await google.VerifyAsync(body.IdToken!, cancellationToken);
        return await CompleteAsync(profile, null, accounts, sessions, db, context, cancellationToken);
    }

    private static async Task<Ok<AuthEndpoints.SignedIn>> AppleAsync(
        AppleSignInBody body, AppleSignIn apple, AppleTokens appleTokens, SocialAccounts accounts, Sessions sessions, RootDbContext db, HttpContext context,
        CancellationToken cancellationToken)
    {
        var name = string.Join(' ', new[] { body.FirstName, body.LastName }.Where(part => !string.IsNullOrWhiteSpace(part)).Select(part => part!.Trim()));
        var (profile, clientId) = await apple.VerifyAsync(body.IdToken!, name, cancellationToken);
        var grant = string.IsNullOrEmpty(body.AuthorizationCode)
            ? null
            : await appleTokens.ExchangeAsync(body.AuthorizationCode, clientId, profile.Subject, cancellationToken);
        return await CompleteAsync(profile, grant is null ? null : user => appleTokens.KeepAsync(user, grant), accounts, sessions, db, context, cancellationToken);
    }

    private static async Task<Ok<AuthEndpoints.SignedIn>> GitHubAsync(
        GitHubSignInBody body, GitHubSignIn gitHub, SocialAccounts accounts, Sessions sessions, RootDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var profile = await gitHub.VerifyAsync(body.Code, body.AccessToken, cancellationToken);
        return await CompleteAsync(profile, null, accounts, sessions, db, context, cancellationToken);
    }

    /// <summary>
    /// Signs in with the verified identity, or, when the request carries a valid access token, links it to that
    /// account. A token that is sent but fails (expired, forged) is refused rather than ignored: the app meant to
    /// link, and quietly signing it into whatever account the provider opens would switch users under its feet.
    /// </summary>
    private static async Task<Ok<AuthEndpoints.SignedIn>> CompleteAsync(
        ProviderProfile profile, Func<User, Task>? keepWithUser, SocialAccounts accounts, Sessions sessions, RootDbContext db, HttpContext context,
        CancellationToken cancellationToken)
    {
        var authentication = await context.AuthenticateAsync();
        if (authentication.Failure is not null)
        {
            throw ErrorCatalog.AuthenticationFailed.ToException();
        }

        var client = ClientInfo.From(context);
        var (user, isNew) = authentication.Succeeded
            ? (await accounts.LinkAsync(await AuthEndpoints.SignedInUserAsync(context, db, cancellationToken), profile), false)
            : await accounts.SignInAsync(profile, client, CodeClient.From(context), cancellationToken);
        if (keepWithUser is not null)
        {
            await keepWithUser(user);
        }

        var tokens = await sessions.StartAsync(user, profile.Provider, client, cancellationToken);
        return TypedResults.Ok(new AuthEndpoints.SignedIn(
            tokens.AccessToken, tokens.RefreshToken, tokens.TokenType, tokens.ExpiresIn, tokens.RefreshExpiresIn, tokens.User, isNew));
    }

    /// <summary>In the list shape of every collection; a user has a handful of ways in, so it is always one page.</summary>
    private static async Task<Ok<CursorPage<IdentityView>>> ListIdentitiesAsync(HttpContext context, RootDbContext db, LinkedIdentities identities, CancellationToken cancellationToken) =>
        TypedResults.Ok(new CursorPage<IdentityView>(await identities.ListAsync(await AuthEndpoints.SignedInUserAsync(context, db, cancellationToken)), null));

    private static async Task<NoContent> RemoveIdentityAsync(
        string provider, HttpContext context, RootDbContext db, LinkedIdentities identities, CancellationToken cancellationToken)
    {
        await identities.RemoveAsync(await AuthEndpoints.SignedInUserAsync(context, db, cancellationToken), provider, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// <c>provider_not_configured</c> before anything else, the body's validation included: an app should learn that
    /// the provider is off, not that its token is too long.
    /// </summary>
    private static RouteHandlerBuilder RequireProvider<TProvider>(this RouteHandlerBuilder endpoint)
        where TProvider : ISocialProvider =>
        endpoint.AddEndpointFilter(async (invocation, next) =>
            invocation.HttpContext.RequestServices.GetRequiredService<TProvider>().IsConfigured
                ? await next(invocation)
                : throw ErrorCatalog.ProviderNotConfigured.ToException());
}
