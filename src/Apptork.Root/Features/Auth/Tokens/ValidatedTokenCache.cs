using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Tokens;

/// <summary>
/// Validates access tokens like <see cref="JsonWebTokenHandler"/> and remembers the ones that passed until they expire.
/// An app sends the same token with every request for its whole 15-minute life, and an ES256 signature check costs
/// more than most endpoints; a token identical to one already verified needs no second verification. Only the exact
/// token string is a hit, the expiry is checked again on every hit, and each request gets its own copy of the identity.
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider time) : JsonWebTokenHandler, IDisposable
{
    /// <summary>Bounded so a flood of distinct valid tokens cannot grow memory without limit.</summary>
    private readonly MemoryCache validated = new(new MemoryCacheOptions { SizeLimit = 50_000 });

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        ArgumentNullException.ThrowIfNull(validationParameters);
        var now = time.GetUtcNow();
        if (validated.TryGetValue(token, out Verified? verified) && verified!.UsableUntil > now)
        {
            return verified.Result();
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken jwt)
        {
            var usableUntil = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + validationParameters.ClockSkew;
            validated.Set(token, new Verified(result.ClaimsIdentity, jwt), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = usableUntil });
        }

        return result;
    }

    public void Dispose() => validated.Dispose();

    private sealed class Verified(ClaimsIdentity identity, JsonWebToken token)
    {
        public DateTimeOffset UsableUntil { get; } = new DateTimeOffset(token.ValidTo, TimeSpan.Zero);

        public TokenValidationResult Result() => new()
        {
            IsValid = true,
            ClaimsIdentity = identity.Clone(),
            SecurityToken = token,
            Issuer = token.Issuer,
            TokenType = token.Typ,
        };
    }
}
