using System.Text;
using Apptork.Root.Platform.Errors;
using Microsoft.Net.Http.Headers;

namespace Apptork.Root.Platform.Json;

/// <summary>
/// Refuses a JSON body whose <c>Content-Type</c> names a charset it cannot be read in (<c>charset=bogus</c>, or UTF-7,
/// which .NET no longer decodes), with 415 <c>unsupported_media_type</c>, before an endpoint's JSON reader meets it: the
/// framework reports an unknown charset as an unexpected exception, which would be a logged 500.
/// </summary>
public static class RequestCharsets
{
    private const int Utf7CodePage = 65000;

    public static IApplicationBuilder UseReadableRequestCharsets(this IApplicationBuilder app) => app.Use((context, next) =>
        MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType)
            && IsJson(contentType) && contentType.Charset.HasValue && !IsReadable(contentType.Charset.Value!)
            ? throw ErrorCatalog.UnsupportedMediaType.ToException()
            : next(context));

    private static bool IsJson(MediaTypeHeaderValue contentType) =>
        contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || contentType.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    private static bool IsReadable(string charset)
    {
        try
        {
            return Encoding.GetEncoding(charset.Trim('"')).CodePage != Utf7CodePage;
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}
