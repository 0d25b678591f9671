using System.Security.Cryptography;
using System.Text.Json;
using Apptork.Root.Features.Auth.Users;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Apple's client secret: a JWT the server signs with the team's .p8 key (ES256), naming the team (<c>iss</c>), the
/// client id (<c>sub</c>) and Apple (<c>aud</c>). Made per call and short-lived, so a leaked one is soon worthless.
/// </summary>
public sealed class AppleClientSecrets(ECDsaSecurityKey? key, AppleSignInOptions options, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public bool IsConfigured => key is not null;

    public string Create(string clientId)
    {
        var now = time.GetUtcNow();
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.TeamId,
            Audience = options.Issuer,
            IssuedAt = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            Claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = clientId },
            SigningCredentials = new SigningCredentials(
                key ?? throw new InvalidOperationException("Auth__Apple__PrivateKey is not set."), SecurityAlgorithms.EcdsaSha256),
        });
    }
}

/// <summary>Apple's refresh token for one user, and the client id it was issued to (revoking needs both).</summary>
public sealed record AppleGrant(string ClientId, string RefreshToken);

/// <summary>
/// Apple refresh tokens: obtained from an authorization code at sign-in, kept encrypted with the user, and revoked at
/// Apple when the account is deleted or Apple is unlinked, as the App Store requires of apps that offer Sign in with Apple.
/// </summary>
public sealed partial class AppleTokens(
    AppleSignIn apple,
    AppleClientSecrets secrets,
    AppleSignInOptions options,
    IHttpClientFactory httpClients,
    IDataProtectionProvider dataProtection,
    UserManager<User> users,
    ILogger<AppleTokens> logger) : IAccountDeletionHook
{
    private const string TokenName = "refresh_token";
    private const string CodeAttr = "authorization_code";

    /// <summary>
    /// Encrypted with Data Protection rather than stored as is: the token lets its holder act on the user's Apple
    /// authorization, and a database dump or backup must not hand it out.
    /// </summary>
    private readonly IDataProtector protector = dataProtection.CreateProtector("Apptork.Root.Auth.Social.AppleRefreshToken");

    /// <summary>Exchanges an authorization code for Apple's refresh token; null when this server has no key to do so.</summary>
    public async Task<AppleGrant?> ExchangeAsync(string code, string clientId, string subject, CancellationToken cancellationToken)
    {
        if (!secrets.IsConfigured)
        {
            LogNoCodeExchange(logger);
            return null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, options.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = clientId,
                ["client_secret"] = secrets.Create(clientId),
                ["code"] = code,
                ["grant_type"] = "authorization_code",
            }),
        };
        var answer = await ProviderHttp.SendAsync<TokenAnswer>(httpClients, request, SocialProviders.Apple, CodeAttr, logger, cancellationToken);
        if (string.IsNullOrEmpty(answer.RefreshToken) || string.IsNullOrEmpty(answer.IdToken))
        {
            throw ProviderHttp.Unavailable();
        }

        // Only the signer's own code is worth keeping: someone else's code beside one's own ID token is refused.
        return await apple.VerifiedSubjectAsync(answer.IdToken, CodeAttr, cancellationToken) == subject
            ? new AppleGrant(clientId, answer.RefreshToken)
            : throw ProviderHttp.Refused(CodeAttr);
    }

    public async Task KeepAsync(User user, AppleGrant grant) =>
        (await users.SetAuthenticationTokenAsync(user, SocialProviders.Apple, TokenName, protector.Protect(JsonSerializer.Serialize(grant)))).ThrowIfFailed();

    /// <summary>Takes the grant off the account and returns it, for the caller to revoke once its own change is committed.</summary>
    public async Task<AppleGrant?> ForgetAsync(User user)
    {
        var grant = await ReadAsync(user);
        (await users.RemoveAuthenticationTokenAsync(user, SocialProviders.Apple, TokenName)).ThrowIfFailed();
        return grant;
    }

    public async Task BeforeErasureAsync(User user, CancellationToken cancellationToken)
    {
        if (await ReadAsync(user) is { } grant)
        {
            await RevokeAsync(grant, cancellationToken);
        }
    }

    /// <summary>Revokes the grant at Apple. Failures are logged for an operator, never thrown: they must not block the user.</summary>
    public async Task RevokeAsync(AppleGrant grant, CancellationToken cancellationToken)
    {
        if (!secrets.IsConfigured)
        {
            LogRevokeFailed(logger, grant.ClientId, "Auth__Apple__PrivateKey is no longer set");
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, options.RevokeUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = grant.ClientId,
                ["client_secret"] = secrets.Create(grant.ClientId),
                ["token"] = grant.RefreshToken,
                ["token_type_hint"] = "refresh_token",
            }),
        };
        try
        {
            using var http = httpClients.CreateClient(ProviderHttp.ClientName);
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                LogRevoked(logger, grant.ClientId);
            }
            else
            {
                LogRevokeFailed(logger, grant.ClientId, $"HTTP {(int)response.StatusCode}");
            }
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogRevokeFailed(logger, grant.ClientId, exception.Message);
        }
    }

    private async Task<AppleGrant?> ReadAsync(User user)
    {
        var stored = await users.GetAuthenticationTokenAsync(user, SocialProviders.Apple, TokenName);
        if (stored is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AppleGrant>(protector.Unprotect(stored));
        }
        catch (CryptographicException exception)
        {
            LogUnreadable(logger, user.Id, exception.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An Apple authorization code was ignored: set Auth__Apple__TeamId, Auth__Apple__KeyId and Auth__Apple__PrivateKey to keep Apple refresh tokens and revoke them on account deletion")]
    private static partial void LogNoCodeExchange(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked an Apple refresh token of client {ClientId}")]
    private static partial void LogRevoked(ILogger logger, string clientId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not revoke an Apple refresh token of client {ClientId}: {Problem}")]
    private static partial void LogRevokeFailed(ILogger logger, string clientId, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "The stored Apple refresh token of user {UserId} cannot be decrypted: {Problem}")]
    private static partial void LogUnreadable(ILogger logger, Guid userId, string problem);

    private sealed record TokenAnswer(string? RefreshToken, string? IdToken);
}
