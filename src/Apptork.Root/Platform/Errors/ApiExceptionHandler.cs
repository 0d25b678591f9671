using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Apptork.Root.Platform.Errors;

/// <summary>
/// Turns every exception that escapes an endpoint into the standard payload: our own
/// <see cref="ApiException"/>, the framework's binding failures (malformed JSON, wrong content type, body too
/// large, unparsable parameters), and anything unexpected, which becomes a 500 that shows only the correlation id.
/// </summary>
public sealed partial class ApiExceptionHandler(ErrorResponseWriter writer, ILogger<ApiExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var context = httpContext;
        if (context.Response.HasStarted)
        {
            return false;
        }

        var apiException = exception switch
        {
            ApiException known => known,
            BadHttpRequestException badRequest => Translate(badRequest),
            _ => null,
        };

        if (apiException is null)
        {
            if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            {
                // The client went away; there is nobody to answer and nothing to report.
                return true;
            }

            LogUnhandled(logger, exception, context.TraceIdentifier, context.Request.Method, context.Request.Path);
            apiException = ErrorCatalog.ServerError.ToException();
        }

        await writer.WriteAsync(context, apiException);
        return true;
    }

    /// <summary>
    /// Minimal APIs report binding failures as <see cref="BadHttpRequestException"/> with a status and an English
    /// message; the parameter at fault is only in that message, so it is read from there.
    /// </summary>
    internal static ApiException Translate(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            return TranslateJson(json);
        }

        switch (exception.StatusCode)
        {
            case StatusCodes.Status413PayloadTooLarge:
                return ErrorCatalog.PayloadTooLarge.ToException();
            case StatusCodes.Status415UnsupportedMediaType:
                return ErrorCatalog.UnsupportedMediaType.ToException();
            case StatusCodes.Status400BadRequest:
                break;
            default:
                return ErrorCatalog.ForStatus(exception.StatusCode).ToException();
        }

        if (RequiredParameter().Match(exception.Message) is { Success: true } required)
        {
            return required.Groups["source"].Value.Contains("body", StringComparison.Ordinal)
                ? ErrorCatalog.ParseError.ToException()
                : ErrorCatalog.Required.ToException(ToAttr(required.Groups["name"].Value));
        }

        if (UnparsableParameter().Match(exception.Message) is { Success: true } unparsable)
        {
            return ErrorCatalog.Invalid.ToException(ToAttr(unparsable.Groups["name"].Value));
        }

        return ErrorCatalog.ParseError.ToException();
    }

    /// <summary>
    /// A syntax error is <c>parse_error</c> (the body as a whole is unreadable); a well-formed document with a value
    /// of the wrong type is a field error, <c>invalid</c>, at the JSON path of that value.
    /// </summary>
    private static ApiException TranslateJson(JsonException json)
    {
        var isSyntaxError = json.InnerException?.GetType().Name == "JsonReaderException"
            || json.Path is null or "$";
        return isSyntaxError
            ? ErrorCatalog.ParseError.ToException()
            : ErrorCatalog.Invalid.ToException(JsonPathToAttr(json.Path!));
    }

    /// <summary><c>$.items[0].name</c> → <c>items.0.name</c>.</summary>
    internal static string JsonPathToAttr(string path) =>
        path.TrimStart('$').Replace("[", ".", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal)
            .Replace("'", string.Empty, StringComparison.Ordinal).TrimStart('.');

    private static string ToAttr(string parameterName) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(parameterName);

    [GeneratedRegex("""Required parameter "(?:[^"]*\s)?(?<name>\w+)" was not provided from (?<source>[\w ]+)\.""")]
    private static partial Regex RequiredParameter();

    [GeneratedRegex("""Failed to bind parameter "(?:[^"]*\s)?(?<name>\w+)" from""")]
    private static partial Regex UnparsableParameter();

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception; correlation id {CorrelationId}, {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string correlationId, string method, PathString path);
}
