using System.Net;
using System.Text.Json;
using Shouldly;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>Reads a response as the standard error payload, failing on any other shape.</summary>
public static class ErrorAssert
{
    public sealed record Item(string Code, string Detail, string? Attr);

    public sealed record Payload(string Type, IReadOnlyList<Item> Errors);

    /// <summary>Checks the exact shape: JSON content type, exactly the keys type/errors, and code/detail/attr per error.</summary>
    public static async Task<Payload> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var context = $"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}";
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json", context);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        root.EnumerateObject().Select(property => property.Name).ShouldBe(["type", "errors"], ignoreOrder: true, context);
        var type = root.GetProperty("type").GetString()!;
        type.ShouldBeOneOf(["validation_error", "client_error", "server_error"], context);
        var errors = root.GetProperty("errors").EnumerateArray().Select(error =>
        {
            var code = error.GetProperty("code").GetString()!;
            // link_required alone carries the email-code challenge the app answers it with.
            string[] keys = code == "link_required" ? ["code", "detail", "attr", "challenge"] : ["code", "detail", "attr"];
            error.EnumerateObject().Select(property => property.Name).ShouldBe(keys, ignoreOrder: true, context);
            code.ShouldMatch("^[a-z][a-z0-9_]*$", context);
            var detail = error.GetProperty("detail").GetString()!;
            detail.ShouldNotBeNullOrWhiteSpace(context);
            var attr = error.GetProperty("attr");
            return new Item(code, detail, attr.ValueKind == JsonValueKind.Null ? null : attr.GetString());
        }).ToList();
        errors.ShouldNotBeEmpty(context);
        var status = (int)response.StatusCode;
        type.ShouldBe(status >= 500 ? "server_error" : type == "validation_error" && status == 400 ? "validation_error" : "client_error", context);
        return new Payload(type, errors);
    }

    /// <summary>Asserts the status, the type and that the single error has this code and attr.</summary>
    public static async Task<Item> SingleAsync(HttpResponseMessage response, HttpStatusCode status, string type, string code, string? attr = null)
    {
        var payload = await ReadAsync(response);
        response.StatusCode.ShouldBe(status);
        payload.Type.ShouldBe(type);
        var error = payload.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe(code);
        error.Attr.ShouldBe(attr);
        return error;
    }
}
