using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;

namespace Apptork.Root.Platform.Errors;

/// <summary>
/// Gives a body to responses that a framework component ended with a bare status code: unknown route (404),
/// wrong method (405), authentication challenges (401) and forbids (403), rate-limiter rejections (429).
/// </summary>
public static class StatusCodeErrors
{
    public static Task WriteAsync(StatusCodeContext statusContext)
    {
        var context = statusContext.HttpContext;
        var definition = ErrorCatalog.ForStatus(context.Response.StatusCode);
        if (definition == ErrorCatalog.NotAuthenticated && !string.IsNullOrEmpty(context.Request.Headers.Authorization))
        {
            // Credentials were sent but failed: DRF's distinction, so a client knows to refresh rather than sign in.
            definition = ErrorCatalog.AuthenticationFailed;
        }

        TimeSpan? retryAfter = null;
        Dictionary<string, object?>? args = null;
        if (long.TryParse(context.Response.Headers.RetryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            retryAfter = TimeSpan.FromSeconds(seconds);
            args = new() { ["wait"] = seconds };
        }
        else if (definition == ErrorCatalog.Throttled)
        {
            retryAfter = TimeSpan.FromSeconds(1);
            args = new() { ["wait"] = 1 };
        }

        var exception = new ApiException([definition.At(null, args)], retryAfter);
        return context.RequestServices.GetRequiredService<ErrorResponseWriter>().WriteAsync(context, exception);
    }
}
