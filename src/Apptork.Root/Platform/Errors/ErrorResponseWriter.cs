using System.Globalization;
using System.Text.Json;
using Apptork.Root.Platform.Localization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Errors;

/// <summary>The only code that writes an error body; everything that fails a request ends up here.</summary>
public sealed class ErrorResponseWriter(IOptions<JsonOptions> jsonOptions)
{
    private readonly JsonSerializerOptions _json = jsonOptions.Value.SerializerOptions;

    public static ErrorPayload Render(IReadOnlyList<ApiError> errors)
    {
        var status = errors[0].Definition.Status;
        var type = status >= 500
            ? ErrorPayload.ServerError
            : errors.All(error => error.Definition.IsFieldError) ? ErrorPayload.ValidationError : ErrorPayload.ClientError;
        return new ErrorPayload(
            type,
            errors.Select(error => new ErrorPayloadItem(
                error.Definition.Code, ErrorMessages.Get(error.Definition.Code, error.Args), error.Attr, error.Challenge)).ToArray());
    }

    public async Task WriteAsync(HttpContext context, ApiException exception)
    {
        var response = context.Response;
        response.StatusCode = exception.Status;
        if (exception.RetryAfter is { } retryAfter)
        {
            var seconds = (long)Math.Ceiling(Math.Max(retryAfter.TotalSeconds, 1));
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (exception.Status == StatusCodes.Status401Unauthorized && string.IsNullOrEmpty(response.Headers.WWWAuthenticate))
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        response.Headers.CacheControl = "no-store";
        // Again here: the exception handler clears the headers the localization middleware had set.
        response.Headers.ContentLanguage = CultureInfo.CurrentUICulture.Name;
        await response.WriteAsJsonAsync(Render(exception.Errors), _json, "application/json", context.RequestAborted);
    }
}
