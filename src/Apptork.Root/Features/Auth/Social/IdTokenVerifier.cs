using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>Verifies OpenID Connect ID tokens of one provider (Google, Apple) against its published keys.</summary>
public sealed class IdTokenVerifier(ProviderSigningKeys keys, IReadOnlyList<string> clientIds, IReadOnlyList<string> issuers, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new();
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The token's claims once its signature, issuer, audience and lifetime check out; <c>invalid_id_token</c> at
    /// <paramref name="attr"/> otherwise. Pinned: only RS256 and ES256 (never <c>none</c>, never HMAC, which would let
    /// anyone sign with the public key as the secret), only our client ids as audience, and 30 s of clock skew
    /// instead of the library's five minutes.
    /// </summary>
    public async Task<JsonWebToken> VerifyAsync(string idToken, string attr, CancellationToken cancellationToken)
    {
        // The unverified header only picks which published key to check the signature with; nothing else is read before that.
        if (!Handler.CanReadToken(idToken) || ReadKeyId(idToken) is not { Length: > 0 } keyId)
        {
            throw ProviderHttp.Refused(attr);
        }

        var key = await keys.FindAsync(keyId, cancellationToken) ?? throw ProviderHttp.Refused(attr);
        var result = await Handler.ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuers = issuers,
            ValidAudiences = clientIds,
            IssuerSigningKey = key,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            RequireAudience = true,
            LifetimeValidator = (notBefore, expires, _, _) => IsCurrent(notBefore, expires),
        });
        return result is { IsValid: true, SecurityToken: JsonWebToken token } && !string.IsNullOrEmpty(token.Subject)
            ? token
            : throw ProviderHttp.Refused(attr);
    }

    /// <summary>On the injected clock, so expiry is tested without waiting; an ID token without <c>exp</c> is refused.</summary>
    private bool IsCurrent(DateTime? notBefore, DateTime? expires)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return expires is { } end && now < end + ClockSkew && (notBefore is not { } start || now >= start - ClockSkew);
    }

    /// <summary>Apple sends some booleans as the strings "true"/"false"; Google sends JSON booleans.</summary>
    public static bool IsTrue(JsonWebToken token, string claim) =>
        token.TryGetClaim(claim, out var value) && bool.TryParse(value.Value, out var flag) && flag;

    public static string? Text(JsonWebToken token, string claim) =>
        token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    private static string? ReadKeyId(string idToken)
    {
        try
        {
            return new JsonWebToken(idToken).Kid;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
