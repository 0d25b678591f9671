using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Errors;

/// <summary>Every way a request can fail ends in the one standard payload, in both runtime shapes.</summary>
public sealed class ErrorPayloadTests(PostgresServer postgres) : IAsyncDisposable
{
    private readonly Dictionary<DatabaseShape, RootApp> apps = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var app in apps.Values)
        {
            await app.DisposeAsync();
        }
    }

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    /// <summary>Started on first use: a test of one shape starts only that shape's application, not both.</summary>
    private async Task<RootApp> AppAsync(DatabaseShape shape)
    {
        if (!apps.TryGetValue(shape, out var app))
        {
            app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, extensions: ErrorProbe.Extensions);
            apps[shape] = app;
        }

        return app;
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Unknown_route_is_not_found(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client().GetAsync("/api/v1/does-not-exist", Cancel);
        var error = await ErrorAssert.SingleAsync(response, HttpStatusCode.NotFound, "client_error", "not_found");
        error.Detail.ShouldBe("Not found.");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Wrong_method_is_method_not_allowed_with_allow_header(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client().DeleteAsync("/__probe/boom", Cancel);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.MethodNotAllowed, "client_error", "method_not_allowed");
        response.Content.Headers.Allow.ShouldContain("GET");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Malformed_json_is_a_parse_error(DatabaseShape shape)
    {
        using var response = await PostJsonAsync(shape, "/__probe/orders", """{"customer_name": "Ana", "items": [""");
        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "client_error", "parse_error");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Missing_body_is_a_parse_error(DatabaseShape shape)
    {
        using var response = await PostJsonAsync(shape, "/__probe/orders", string.Empty);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "client_error", "parse_error");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Value_of_the_wrong_type_is_invalid_at_its_json_path(DatabaseShape shape)
    {
        using var response = await PostJsonAsync(shape, "/__probe/orders",
            """{"customer_name": "Ana", "items": [{"name": "tea", "quantity": 1}, {"name": "cake", "quantity": "two"}], "placed_at": "2026-11-25T10:00:00Z"}""");
        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "validation_error", "invalid", "items.1.quantity");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Wrong_content_type_is_unsupported_media_type(DatabaseShape shape)
    {
        using var content = new StringContent("customer_name=Ana", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await (await AppAsync(shape)).Client().PostAsync("/__probe/orders", content, Cancel);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.UnsupportedMediaType, "client_error", "unsupported_media_type");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_json_body_in_a_charset_that_cannot_be_read_is_unsupported_media_type_and_logs_no_error(DatabaseShape shape)
    {
        var app = await AppAsync(shape);
        foreach (var charset in new[] { "bogus", "utf-7" })
        {
            using var content = new ByteArrayContent("""{"customer_name": "Ana"}"""u8.ToArray());
            content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");
            using (var anonymous = await app.Client().PostAsync("/__probe/orders", content, Cancel))
            {
                await ErrorAssert.SingleAsync(anonymous, HttpStatusCode.UnsupportedMediaType, "client_error", "unsupported_media_type");
            }

            using var signIn = new ByteArrayContent("""{"email": "charset@example.com"}"""u8.ToArray());
            signIn.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");
            using var product = await app.Client().PostAsync("/api/v1/auth/otp/request", signIn, Cancel);
            await ErrorAssert.SingleAsync(product, HttpStatusCode.UnsupportedMediaType, "client_error", "unsupported_media_type");
        }

        app.Logs.Entries.ShouldNotContain(entry => entry.Level >= LogLevel.Error || entry.Exception != null);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Body_over_the_limit_is_payload_too_large(DatabaseShape shape)
    {
        var name = new string('x', 1024 * 1024 + 10);
        using var response = await PostJsonAsync(shape, "/__probe/orders", $$"""{"customer_name": "{{name}}"}""");
        await ErrorAssert.SingleAsync(response, HttpStatusCode.RequestEntityTooLarge, "client_error", "payload_too_large");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Validation_reports_every_failing_field_with_snake_case_paths(DatabaseShape shape)
    {
        using var response = await PostJsonAsync(shape, "/__probe/orders",
            """{"customer_name": "", "items": [{"name": "tea", "quantity": 1}, {"name": "a very long cake name", "quantity": 0}], "placed_at": "2026-11-25T10:00:00Z"}""");
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var payload = await ErrorAssert.ReadAsync(response);
        payload.Type.ShouldBe("validation_error");
        payload.Errors.Select(error => (error.Code, error.Attr)).ShouldBe(
            [("blank", "customer_name"), ("max_length", "items.1.name"), ("min_value", "items.1.quantity")], ignoreOrder: true);
        payload.Errors.Single(error => error.Code == "max_length").Detail.ShouldBe("Ensure this field has no more than 10 characters.");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Missing_required_fields_are_required(DatabaseShape shape)
    {
        using var response = await PostJsonAsync(shape, "/__probe/orders", """{"placed_at": "2026-11-25T10:00:00Z"}""");
        var payload = await ErrorAssert.ReadAsync(response);
        payload.Errors.Select(error => (error.Code, error.Attr)).ShouldBe([("required", "customer_name"), ("required", "items")], ignoreOrder: true);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Unparsable_query_parameter_is_invalid_and_a_missing_one_required(DatabaseShape shape)
    {
        using var unparsable = await (await AppAsync(shape)).Client().GetAsync("/__probe/count?count=many", Cancel);
        await ErrorAssert.SingleAsync(unparsable, HttpStatusCode.BadRequest, "validation_error", "invalid", "count");
        using var missing = await (await AppAsync(shape)).Client().GetAsync("/__probe/count", Cancel);
        await ErrorAssert.SingleAsync(missing, HttpStatusCode.BadRequest, "validation_error", "required", "count");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Unauthenticated_carries_www_authenticate(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client().GetAsync("/__probe/status/401", Cancel);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.Unauthorized, "client_error", "not_authenticated");
        response.Headers.WwwAuthenticate.ShouldNotBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Forbidden_is_permission_denied(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client().GetAsync("/__probe/status/403", Cancel);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.Forbidden, "client_error", "permission_denied");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Throttled_carries_retry_after_and_says_when(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client("de").GetAsync("/__probe/throttled", Cancel);
        var error = await ErrorAssert.SingleAsync(response, HttpStatusCode.TooManyRequests, "client_error", "throttled");
        response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(42));
        error.Detail.ShouldBe("Die Anfrage wurde gedrosselt. Wieder verfügbar in 42 Sekunden.");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Bare_429_from_a_framework_component_still_says_when(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client().GetAsync("/__probe/status/429", Cancel);
        var error = await ErrorAssert.SingleAsync(response, HttpStatusCode.TooManyRequests, "client_error", "throttled");
        response.Headers.RetryAfter.ShouldNotBeNull();
        error.Detail.ShouldNotContain("{wait}");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Unhandled_exception_is_a_500_that_leaks_nothing_and_is_logged_with_the_correlation_id(DatabaseShape shape)
    {
        using var response = await (await AppAsync(shape)).Client().GetAsync("/__probe/boom", Cancel);
        var error = await ErrorAssert.SingleAsync(response, HttpStatusCode.InternalServerError, "server_error", "error");
        var body = await response.Content.ReadAsStringAsync(Cancel);
        body.ShouldNotContain("hunter2");
        body.ShouldNotContain("InvalidOperationException");
        body.ShouldNotContain(" at ");
        error.Detail.ShouldContain("X-Correlation-Id");

        var correlationId = response.Headers.GetValues("X-Correlation-Id").ShouldHaveSingleItem();
        var logged = (await AppAsync(shape)).Logs.Entries.Where(entry => entry.Level == LogLevel.Error && entry.Exception?.Message == ErrorProbe.SecretInException).ToList();
        logged.ShouldHaveSingleItem().Message.ShouldContain(correlationId);
        logged[0].Scope["CorrelationId"].ShouldBe(correlationId);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_sane_incoming_correlation_id_is_kept_and_a_hostile_one_replaced(DatabaseShape shape)
    {
        using var kept = new HttpRequestMessage(HttpMethod.Get, "/healthz/live");
        kept.Headers.Add("X-Correlation-Id", "mobile-7f3a9c21");
        using var keptResponse = await (await AppAsync(shape)).Client().SendAsync(kept, Cancel);
        keptResponse.Headers.GetValues("X-Correlation-Id").ShouldBe(["mobile-7f3a9c21"]);

        using var hostile = new HttpRequestMessage(HttpMethod.Get, "/healthz/live");
        hostile.Headers.TryAddWithoutValidation("X-Correlation-Id", "x\"; DROP TABLE users; --");
        using var hostileResponse = await (await AppAsync(shape)).Client().SendAsync(hostile, Cancel);
        hostileResponse.Headers.GetValues("X-Correlation-Id").Single().ShouldMatch("^[0-9a-f]{32}$");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Pagination_input_errors_name_their_parameter(DatabaseShape shape)
    {
        var client = (await AppAsync(shape)).Client();
        using var tooMany = await client.GetAsync("/__probe/page?limit=500", Cancel);
        (await ErrorAssert.SingleAsync(tooMany, HttpStatusCode.BadRequest, "validation_error", "max_value", "limit")).Detail.ShouldContain("100");
        using var zero = await client.GetAsync("/__probe/page?limit=0", Cancel);
        await ErrorAssert.SingleAsync(zero, HttpStatusCode.BadRequest, "validation_error", "min_value", "limit");
        using var words = await client.GetAsync("/__probe/page?limit=ten", Cancel);
        await ErrorAssert.SingleAsync(words, HttpStatusCode.BadRequest, "validation_error", "invalid", "limit");
        using var forged = await client.GetAsync("/__probe/page?cursor=not-a-cursor", Cancel);
        await ErrorAssert.SingleAsync(forged, HttpStatusCode.BadRequest, "validation_error", "invalid_cursor", "cursor");
        using var fine = await client.GetAsync("/__probe/page", Cancel);
        fine.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await fine.Content.ReadFromJsonAsync<Dictionary<string, object?>>(Cancel))!["limit"]!.ToString().ShouldBe("20");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Json_is_snake_case_and_times_are_utc(DatabaseShape shape)
    {
        using var response = await PostJsonAsync(shape, "/__probe/orders",
            """{"customer_name": "Ana", "items": [{"name": "tea", "quantity": 2}], "placed_at": "2026-11-25T12:30:00+02:00"}""");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        body.ShouldContain("\"customer_name\":\"Ana\"");
        body.ShouldContain("\"placed_at\":\"2026-11-25T10:30:00.000Z\"");
    }

    private async Task<HttpResponseMessage> PostJsonAsync(DatabaseShape shape, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await (await AppAsync(shape)).Client().PostAsync(path, content, Cancel);
    }
}
