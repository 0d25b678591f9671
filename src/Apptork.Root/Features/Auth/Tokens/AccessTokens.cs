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
    /// Fails a token whose signature holds but whose subject or session is no UUID (a token made elsewhere with one of our
    /// keys): the endpoints read both as ids, so such a token is refused here like any invalid one, with a 401.
    /// </summary>
    public static Task RefuseUnreadableClaimsAsync(TokenValidatedContext context)
    {
        var principal = context.Principal;
        if (!Guid.TryParse(principal?.FindFirstValue(JwtRegisteredClaimNames.Sub), out _) || !Guid.TryParse(principal?.FindFirstValue(CurrentUser.SessionClaim), out _))
        {
            context.Fail("The access token's sub and sid claims must be UUIDs.");
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Pinned validation: our issuer and audience, only the asymmetric algorithms we sign with (no <c>none</c>, no
    /// HMAC with a public key as secret), only access tokens (<c>typ</c>), a lifetime, and 30 s of clock skew instead of
    /// the framework's five minutes.
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
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = JwtRegisteredClaimNames.Sub,
        RoleClaimType = CurrentUser.RoleClaim,
    };
}
