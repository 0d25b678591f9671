using System.Text.Json.Serialization;

namespace Apptork.Root.Platform.Errors;

/// <summary>The body of every non-2xx response: <c>{"type", "errors": [{"code", "detail", "attr"}]}</c>.</summary>
public sealed record ErrorPayload(string Type, IReadOnlyList<ErrorPayloadItem> Errors)
{
    public const string ValidationError = "validation_error";
    public const string ClientError = "client_error";
    public const string ServerError = "server_error";
}

/// <param name="Challenge">Only on <c>link_required</c>, left out elsewhere: <c>{otp_token, expires_in, resend_after}</c>.</param>
public sealed record ErrorPayloadItem(
    string Code, string Detail, string? Attr, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Challenge = null);
