using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// Completes ASP.NET Core's own request span as the semantic conventions describe an HTTP server span. ASP.NET Core 10
/// gives it the method, scheme, path and server when it starts (its OpenTelemetry attributes are switched on in
/// Directory.Build.props) but not the route and status, nor the <c>{method} {route}</c> name tracing back ends group by;
/// .NET 11 does. OpenTelemetry.Instrumentation.AspNetCore (not referenced) adds them by listening to every request's
/// DiagnosticSource events, which cost a light endpoint several percent of its throughput (bench/instrumentation.sh):
/// this reads the request's span once, as the response ends, and writes only to the spans that are kept.
/// </summary>
internal sealed class HttpServerSpans : IStartupFilter
{
    public const string ActivitySourceName = "Microsoft.AspNetCore";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        // First in the pipeline, so the status it reads is the one sent, the exception handler's 500 included.
        app.Use(static next => context => CompleteAsync(context, next));
        next(app);
    };

    private static async Task CompleteAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        finally
        {
            if (context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true } span)
            {
                Complete(span, context);
            }
        }
    }

    private static void Complete(Activity span, HttpContext context)
    {
        var status = context.Response.StatusCode;
        span.SetTag("http.response.status_code", status);
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        if (route is not null)
        {
            span.SetTag("http.route", route);
        }

        span.DisplayName = route is null ? context.Request.Method : $"{context.Request.Method} {route}";
        if (status >= StatusCodes.Status500InternalServerError)
        {
            span.SetTag("error.type", status.ToString(CultureInfo.InvariantCulture));
            span.SetStatus(ActivityStatusCode.Error);
        }
    }
}
