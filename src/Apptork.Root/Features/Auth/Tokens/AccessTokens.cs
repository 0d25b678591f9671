using System.Security.Claims;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Callers;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Tokens;

/// <summary>Signs short-lived access tokens (JWT, <c>typ: at+jwt</c>, RFC 9068) and states how they are validated.</summary>
public sealed class AccessTokens(AuthKeys keys, IOptions<AuthOptions> options, TimeProvider time)
{
    public const string TokenType = "at+jwt";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>How far the clocks of a token's issuer and validator may disagree: 30 s rather than the framework's five minutes.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    public TimeSpan Lifetime => TimeSpan.FromMinutes(options.Value.Jwt.AccessTokenMinutes);

    public string Issue(User user, Guid sessionId)
    {
        var now = time.GetUtcNow();
        var jwt = options.Value.Jwt;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            TokenType = TokenType,
            SigningCredentials = keys.SigningCredentials,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
                [CurrentUser.SessionClaim] = sessionId.ToString(),
                [CurrentUser.RoleClaim] = user.Role,
                [JwtRegisteredClaimNames.Jti] = Guid.CreateVersion7().ToString("N"),
            },
        });
    }

    /// <summary>
    /// What a valid signature does not settle, checked on every request (cached validations included): a subject or
    /// session that is no UUID (a token made elsewhere with one of our keys; the endpoints read both as ids) and a
    /// session that has ended since the token was issued are refused like any invalid token, with a 401.
    /// </summary>
    public static Task RefuseUnusableAsync(TokenValidatedContext context, RevokedSessions revokedSessions)
    {
        var principal = context.Principal;
        if (!Guid.TryParse(principal?.FindFirstValue(JwtRegisteredClaimNames.Sub), out _) || !Guid.TryParse(principal?.FindFirstValue(CurrentUser.SessionClaim), out var sessionId))
        {
            context.Fail("The access token's sub and sid claims must be UUIDs.");
        }
        else if (revokedSessions.IsRevoked(sessionId))
        {
            context.Fail("The access token's session has ended.");
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Pinned validation: our issuer and audience, only the asymmetric algorithms we sign with (no <c>none</c>, no
    /// HMAC with a public key as secret), only access tokens (<c>typ</c>), a lifetime, and <see cref="ClockSkew"/>.
    /// </summary>
    public static TokenValidationParameters ValidationParameters(AuthKeys keys, JwtOptions jwt) => new()
    {
        ValidIssuer = jwt.Issuer,
        ValidAudience = jwt.Audience,
        ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256],
        ValidTypes = [TokenType],
        IssuerSigningKeys = keys.SigningKeys,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = ClockSkew,
        NameClaimType = JwtRegisteredClaimNames.Sub,
        RoleClaimType = CurrentUser.RoleClaim,
    };
}
