using System.Text.RegularExpressions;
using Apptork.Root.Platform.Storage;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// Removes what would let a reader of an error report act as a user or forge a request: bearer and refresh tokens, OTP
/// codes and tokens, signatures, email addresses, and the tokens of signed URLs (S3's presigned query strings, the Local provider's
/// <c>/files/local/{token}</c>, the generation stream's <c>?token=</c>). Applied to every text an event or breadcrumb
/// carries, because a token can reach an exception message or a log line through a bug as well as through a header.
/// </summary>
public static partial class SecretScrubber
{
    public const string Filtered = "[Filtered]";

    /// <summary>Names of headers, query parameters, fields and job arguments whose value is a secret.</summary>
    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    public static string? Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        text = Bearer().Replace(text, $"$1 {Filtered}");
        text = Jwt().Replace(text, Filtered);
        text = LocalFileUrlToken().Replace(text, $"$1{Filtered}");
        // Every query string: presigned URLs carry their signature there, and signed stream URLs their token.
        text = QueryString().Replace(text, $"?{Filtered}");
        text = SecretAssignment().Replace(text, $"$1$2{Filtered}");
        text = SecretJsonField().Replace(text, $"$1{Filtered}\"");
        // Users are identified by id alone; an address in a message would name them.
        text = EmailAddress().Replace(text, Filtered);
        return OpaqueToken().Replace(text, Filtered);
    }

    [GeneratedRegex("(?i)(access|refresh|otp|id|csrf|api|auth)?[_-]?(token|secret|password|passwd|signature|sig|code|key|cookie|authorization)s?$|^x-amz-")]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")]
    private static partial Regex Bearer();

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?")]
    private static partial Regex Jwt();

    [GeneratedRegex("(" + LocalFileStorage.RoutePrefix + @"/)[^/?#\s""']+")]
    private static partial Regex LocalFileUrlToken();

    [GeneratedRegex(@"\?[^\s""'<>]+")]
    private static partial Regex QueryString();

    /// <summary><c>refresh_token=…</c>, <c>code: 123456</c>, <c>Stripe-Signature: t=…</c> in free text.</summary>
    [GeneratedRegex(@"(?i)\b((?:access|refresh|otp|id)?[_-]?token|secret|password|passwd|[\w-]*signature|code|cookie|api[_-]?key)(\s*[=:]\s*)[^\s&;""']+")]
    private static partial Regex SecretAssignment();

    /// <summary><c>"refresh_token":"…"</c> in a JSON body quoted by an exception message.</summary>
    [GeneratedRegex(@"(?i)(""(?:\w*token|\w*secret|password|\w*signature|code)""\s*:\s*"")[^""]*""")]
    private static partial Regex SecretJsonField();

    [GeneratedRegex(@"[\w.+-]+@[\w-]+(\.[\w-]+)+")]
    private static partial Regex EmailAddress();

    /// <summary>
    /// Long runs of base64url, the shape of refresh tokens and data-protection tokens, wherever they stand. Shorter than
    /// 40 characters is left alone: correlation ids and GUIDs (32) are what a report is searched by.
    /// </summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")]
    private static partial Regex OpaqueToken();
}
