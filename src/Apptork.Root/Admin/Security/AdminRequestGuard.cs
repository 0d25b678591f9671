using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin.Security;

/// <summary>
/// In front of the whole pipeline for the admin path: the security headers on every response (redirects, 403s and
/// errors included), and a refusal of any <c>Authorization</c> header, so an app user's bearer token is never taken as
/// a credential here, whatever scheme a later change might add.
/// </summary>
public sealed class AdminRequestGuard(IOptions<AdminOptions> options) : IStartupFilter
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    /// <summary>
    /// Hangfire's dashboard (<see cref="AdminModule.JobsPath"/>): the same, except that its charts set inline styles.
    /// Scripts stay its own files only.
    /// </summary>
    public const string JobsContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var path = new PathString(options.Value.Path);
        var jobs = path.Add(AdminModule.JobsPath);
        app.Use(async (context, nextMiddleware) =>
        {
            if (!context.Request.Path.StartsWithSegments(path))
            {
                await nextMiddleware(context);
                return;
            }

            // Chosen now: Hangfire's dashboard moves its prefix into the path base before the response starts.
            var policy = context.Request.Path.StartsWithSegments(jobs) ? JobsContentSecurityPolicy : ContentSecurityPolicy;
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = policy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
                return Task.CompletedTask;
            });
            if (context.Request.Headers.Authorization.Count > 0)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await nextMiddleware(context);
        });
        next(app);
    };
}
