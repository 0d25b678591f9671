using System.Security.Cryptography;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Tests.Infrastructure.Categories;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

[Fast]
public sealed class ValidatedTokenCacheTests
{
    private static readonly ECDsaSecurityKey Key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "k1" };

    [Fact]
    public async Task A_token_verified_once_is_not_verified_again_until_it_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new ValidatedTokenCache(clock);
        var token = Issue(clock.GetUtcNow(), TimeSpan.FromMinutes(15));

        (await cache.ValidateTokenAsync(token, Parameters(Key, clock))).IsValid.ShouldBeTrue();

        // Without any key, only a remembered verification can pass: the signature is not checked twice.
        var remembered = await cache.ValidateTokenAsync(token, Parameters(null, clock));
        remembered.IsValid.ShouldBeTrue();
        remembered.ClaimsIdentity.FindFirst("sub")!.Value.ShouldBe("user-1");

        var tampered = token[..^2] + (token[^2] == 'A' ? "BA" : "AA");
        (await cache.ValidateTokenAsync(tampered, Parameters(null, clock))).IsValid.ShouldBeFalse();

        clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        (await cache.ValidateTokenAsync(token, Parameters(null, clock))).IsValid.ShouldBeFalse();
    }

    [Fact]
    public async Task Each_hit_gets_its_own_identity()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = new ValidatedTokenCache(clock);
        var token = Issue(clock.GetUtcNow(), TimeSpan.FromMinutes(15));
        await cache.ValidateTokenAsync(token, Parameters(Key, clock));

        var first = await cache.ValidateTokenAsync(token, Parameters(Key, clock));
        first.ClaimsIdentity.AddClaim(new System.Security.Claims.Claim("role", "staff"));
        var second = await cache.ValidateTokenAsync(token, Parameters(Key, clock));
        second.ClaimsIdentity.FindFirst("role").ShouldBeNull();
    }

    private static string Issue(DateTimeOffset now, TimeSpan lifetime) => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "issuer",
        Audience = "audience",
        TokenType = AccessTokens.TokenType,
        IssuedAt = now.UtcDateTime,
        NotBefore = now.UtcDateTime,
        Expires = (now + lifetime).UtcDateTime,
        Claims = new Dictionary<string, object> { ["sub"] = "user-1" },
        SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.EcdsaSha256),
    });

    private static TokenValidationParameters Parameters(SecurityKey? key, TimeProvider clock) => new()
    {
        ValidIssuer = "issuer",
        ValidAudience = "audience",
        ValidTypes = [AccessTokens.TokenType],
        ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        IssuerSigningKeys = key is null ? [] : [key],
        ClockSkew = TimeSpan.Zero,
        LifetimeValidator = (notBefore, expires, _, _) => notBefore <= clock.GetUtcNow().UtcDateTime && clock.GetUtcNow().UtcDateTime < expires,
    };
}
