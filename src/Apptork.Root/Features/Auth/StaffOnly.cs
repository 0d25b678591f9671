using Apptork.Root.Features.Auth.Users;

namespace Apptork.Root.Features.Auth;

/// <summary>
/// The operators' management API under <c>/api/v1/admin</c>: only an access token of a <c>staff</c> user passes; any
/// other signed-in user is 403 <c>permission_denied</c>, an anonymous caller 401.
/// </summary>
public static class StaffOnly
{
    public const string Policy = "staff";

    public static IServiceCollection AddStaffPolicy(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAuthenticatedUser().RequireRole(UserRoles.Staff));
        return services;
    }

    public static RouteGroupBuilder RequireStaff(this RouteGroupBuilder group) => group.RequireAuthorization(Policy);
}
