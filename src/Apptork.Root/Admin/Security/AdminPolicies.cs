using System.Security.Claims;
using Apptork.Root.Admin.Staff;
using Microsoft.AspNetCore.Authorization;

namespace Apptork.Root.Admin.Security;

/// <summary>
/// The control plane's authorization, checked on the server for every handler of a page (Razor Pages conventions in
/// <see cref="AdminModule"/>), whatever links a page shows. Only the staff cookie authenticates here.
/// </summary>
public static class AdminPolicies
{
    /// <summary>Any enrolled staff member.</summary>
    public const string Staff = "admin.staff";

    /// <summary>Staff management and the audit log.</summary>
    public const string Superuser = "admin.superuser";

    /// <summary>Wallets: balances and manual adjustments.</summary>
    public const string Finance = "admin.finance";

    /// <summary>The users screen: support and superusers, never finance.</summary>
    public const string Support = "admin.support";

    public const string StampClaim = "admin:stamp";

    public static void Add(AuthorizationOptions options)
    {
        AddRolePolicy(options, Staff, [.. StaffRoles.All]);
        AddRolePolicy(options, Superuser, StaffRoles.Superuser);
        AddRolePolicy(options, Finance, StaffRoles.Finance, StaffRoles.Superuser);
        AddRolePolicy(options, Support, StaffRoles.Support, StaffRoles.Superuser);
    }

    private static void AddRolePolicy(AuthorizationOptions options, string name, params string[] roles) =>
        options.AddPolicy(name, policy => policy
            .AddAuthenticationSchemes(AdminCookie.Scheme)
            .RequireAuthenticatedUser()
            .RequireRole(roles));

    public static ClaimsPrincipal Principal(StaffMember staff) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, staff.Id.ToString()),
            new Claim(ClaimTypes.Email, staff.Email),
            new Claim(ClaimTypes.Role, staff.Role),
            new Claim(StampClaim, staff.SecurityStamp),
        ],
        AdminCookie.Scheme,
        ClaimTypes.Email,
        ClaimTypes.Role));

    public static Guid? StaffId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;
}
