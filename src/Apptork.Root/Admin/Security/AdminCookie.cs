using Apptork.Root.Admin.Staff;
using Apptork.Root.Platform.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin.Security;

/// <summary>
/// The staff session: a cookie of its own scheme, encrypted with the Data Protection keys every process shares through
/// the database, so any <c>api</c> process accepts it. HttpOnly, SameSite=Strict, Secure in the production shape, and it
/// ends after <c>Admin__IdleTimeoutMinutes</c> without a request.
/// </summary>
public static class AdminCookie
{
    public const string Scheme = "AdminCookie";
    public const string Name = "apptork-admin";
    public const string AntiforgeryName = "apptork-admin-antiforgery";

    public static void Configure(CookieAuthenticationOptions cookie, AdminOptions admin, RuntimeShape shape)
    {
        cookie.Cookie.Name = Name;
        cookie.Cookie.Path = admin.Path;
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Strict;
        cookie.Cookie.SecurePolicy = SecurePolicy(shape);
        cookie.ExpireTimeSpan = TimeSpan.FromMinutes(admin.IdleTimeoutMinutes);
        cookie.SlidingExpiration = true;
        cookie.LoginPath = $"{admin.Path}/sign-in";
        cookie.LogoutPath = $"{admin.Path}/sign-out";
        cookie.Events = new CookieAuthenticationEvents
        {
            // A page the role does not open is a plain 403, not a redirect to a page that would say the same.
            OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            },
            OnValidatePrincipal = ValidateAsync,
        };
    }

    public static CookieSecurePolicy SecurePolicy(RuntimeShape shape) => shape.IsProduction ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;

    /// <summary>
    /// Every request re-reads the account: a disabled member, or a session from before a security stamp change, is signed
    /// out at once; a role changed by a superuser applies at the next request.
    /// </summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var accounts = context.HttpContext.RequestServices.GetRequiredService<StaffAccounts>();
        var stamp = context.Principal?.FindFirst(AdminPolicies.StampClaim)?.Value;
        var staff = context.Principal?.StaffId() is { } id && stamp is not null
            ? await accounts.FindActiveAsync(id, stamp, context.HttpContext.RequestAborted)
            : null;
        if (staff is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }

        if (!context.Principal!.IsInRole(staff.Role))
        {
            context.ReplacePrincipal(AdminPolicies.Principal(staff));
            context.ShouldRenew = true;
        }
    }

    public static void ConfigureOptions(IServiceCollection services) =>
        services.AddOptions<CookieAuthenticationOptions>(Scheme)
            .Configure<IOptions<AdminOptions>, RuntimeShape>((cookie, admin, shape) => Configure(cookie, admin.Value, shape));
}
