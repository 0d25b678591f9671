using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Apptork.Root.Platform.Callers;

/// <summary>Who sent the request, as its validated access token says; features read it here rather than from Auth.</summary>
public static class CurrentUser
{
    /// <summary>The claim naming the sign-in session the token belongs to.</summary>
    public const string SessionClaim = "sid";

    /// <summary>The claim carrying the user's role, which throttling rates key on.</summary>
    public const string RoleClaim = "role";

    /// <summary>The signed-in user's id, from the validated access token.</summary>
    public static Guid UserId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("No subject: the endpoint must require authorization."));

    public static Guid SessionId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirstValue(SessionClaim) ?? throw new InvalidOperationException("No session claim."));
}
