using Apptork.Root.Admin.Staff;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;

namespace Apptork.Root.Admin.Security;

/// <summary>
/// Hangfire's own check in front of its dashboard at <c>{Admin__Path}/jobs</c>, beside the endpoint's
/// <see cref="AdminPolicies.Support"/> policy: the staff cookie, and nothing else, must name support or a superuser.
/// Support sees it read-only (<see cref="IsReadOnly"/>): no requeue or delete buttons, and Hangfire refuses their posts.
/// </summary>
public sealed class JobsDashboardAuthorization : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var result = await context.GetHttpContext().AuthenticateAsync(AdminCookie.Scheme);
        return result.Succeeded && (result.Principal.IsInRole(StaffRoles.Support) || result.Principal.IsInRole(StaffRoles.Superuser));
    }

    /// <summary>Only a superuser changes jobs; read-only unless the request's staff principal says superuser.</summary>
    public static bool IsReadOnly(DashboardContext context) => !context.GetHttpContext().User.IsInRole(StaffRoles.Superuser);
}
