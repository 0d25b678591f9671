using System.Text.Json;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Apptork.Root.Tests.Platform.Errors;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.OpenApi;

public sealed class OpenApiTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Document_is_openapi_3_1_and_every_operation_declares_its_errors_with_the_standard_schema()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, extensions: ErrorProbe.Extensions);
        using var document = JsonDocument.Parse(await app.Client().GetStringAsync("/openapi/v1.json", Cancel));
        var root = document.RootElement;
        root.GetProperty("openapi").GetString().ShouldStartWith("3.1");

        var schema = root.GetProperty("components").GetProperty("schemas").GetProperty("ErrorPayload");
        schema.GetProperty("required").EnumerateArray().Select(item => item.GetString()).ShouldBe(["type", "errors"], ignoreOrder: true);
        var codes = schema.GetProperty("properties").GetProperty("errors").GetProperty("items").GetProperty("properties")
            .GetProperty("code").GetProperty("enum").EnumerateArray().Select(item => item.GetString());
        codes.ShouldBe(ErrorCatalog.All.Select(definition => definition.Code), ignoreOrder: true);

        var operations = root.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Name: $"{operation.Name} {path.Name}", Operation: operation.Value)))
            .ToList();
        operations.ShouldNotBeEmpty();
        foreach (var (name, operation) in operations)
        {
            var responses = operation.GetProperty("responses");
            responses.TryGetProperty("500", out var serverError).ShouldBeTrue($"{name} declares no 500");
            ErrorSchemaReference(serverError).ShouldBe("#/components/schemas/ErrorPayload", name);
        }

        var orders = root.GetProperty("paths").GetProperty("/__probe/orders").GetProperty("post").GetProperty("responses");
        var badRequest = orders.GetProperty("400");
        ErrorSchemaReference(badRequest).ShouldBe("#/components/schemas/ErrorPayload");
        badRequest.GetProperty("description").GetString().ShouldNotBeNull().ShouldContain("`max_length`");
        orders.TryGetProperty("415", out _).ShouldBeTrue();
        orders.TryGetProperty("413", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Interactive_reference_page_is_served()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var page = await app.Client().GetStringAsync("/docs", Cancel);
        page.ShouldContain("openapi/v1.json");
    }

    [Fact]
    public async Task Operations_that_need_a_token_declare_the_bearer_scheme_and_the_others_declare_none()
    {
        var root = await ApiDocumentAsync();
        var scheme = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearerAuth");
        scheme.GetProperty("type").GetString().ShouldBe("http");
        scheme.GetProperty("scheme").GetString().ShouldBe("bearer");
        scheme.GetProperty("bearerFormat").GetString().ShouldBe("JWT");

        foreach (var (name, operation) in Operations(root))
        {
            operation.TryGetProperty("security", out _).ShouldBeTrue($"{name} says nothing of security");
        }

        SecurityOf(root, "get", "/api/v1/wallet").ShouldBe(["bearerAuth"]);
        SecurityOf(root, "patch", "/api/v1/auth/me").ShouldBe(["bearerAuth"]);
        SecurityOf(root, "post", "/api/v1/auth/otp/request").ShouldBeEmpty();
        SecurityOf(root, "get", "/api/v1/checkout/packs").ShouldBeEmpty();
        SecurityOf(root, "post", "/api/v1/checkout/webhooks/stripe").ShouldBeEmpty();

        // Answers anyone and reads a token when sent: "no requirement, or the bearer token".
        var optional = OperationOf(root, "get", "/api/v1/auth/whoami").GetProperty("security").EnumerateArray()
            .Select(requirement => requirement.EnumerateObject().Select(scheme => scheme.Name).ToList()).ToList();
        optional.Count.ShouldBe(2);
        optional[0].ShouldBeEmpty();
        optional[1].ShouldBe(["bearerAuth"]);
    }

    [Fact]
    public async Task Every_operation_has_a_unique_snake_case_operation_id()
    {
        var root = await ApiDocumentAsync();
        var ids = Operations(root).Select(entry =>
            entry.Operation.TryGetProperty("operationId", out var id) ? id.GetString() : $"(none on {entry.Name})").ToList();
        ids.ShouldAllBe(id => System.Text.RegularExpressions.Regex.IsMatch(id!, "^[a-z][a-z0-9]*(_[a-z0-9]+)*$"));
        ids.ShouldBeUnique();
        OperationOf(root, "post", "/api/v1/auth/otp/request").GetProperty("operationId").GetString().ShouldBe("auth_otp_request");
        OperationOf(root, "get", "/api/v1/wallet").GetProperty("operationId").GetString().ShouldBe("wallet_get");
        OperationOf(root, "get", "/api/v1/wallet/transactions").GetProperty("operationId").GetString().ShouldBe("wallet_transactions_list");
        OperationOf(root, "post", "/api/v1/generations").GetProperty("operationId").GetString().ShouldBe("generations_create");
    }

    [Fact]
    public async Task Servers_have_no_trailing_slash_and_every_tag_is_described_in_the_order_a_client_meets_them()
    {
        var root = await ApiDocumentAsync();
        var servers = root.GetProperty("servers").EnumerateArray().Select(server => server.GetProperty("url").GetString()).ToList();
        servers.ShouldNotBeEmpty();
        servers.ShouldAllBe(url => !url!.EndsWith('/'));

        var tags = root.GetProperty("tags").EnumerateArray().ToList();
        tags.Select(tag => tag.GetProperty("name").GetString()).ShouldBe(["Auth", "Wallet", "Checkout", "Purchases", "Files", "Generations", "Feature flags", "Messages", "Admin messages", "Webhooks"]);
        tags.ShouldAllBe(tag => !string.IsNullOrWhiteSpace(tag.GetProperty("description").GetString()));
        foreach (var webhook in new[] { "/api/v1/checkout/webhooks/stripe", "/api/v1/purchases/apple/notifications", "/api/v1/purchases/google/notifications" })
        {
            OperationOf(root, "post", webhook).GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()).ShouldBe(["Webhooks"], webhook);
        }
    }

    [Fact]
    public async Task Every_operation_references_the_client_headers_and_idempotent_ones_require_the_key()
    {
        var root = await ApiDocumentAsync();
        var parameters = root.GetProperty("components").GetProperty("parameters");
        EnumOf(parameters.GetProperty("X-Platform")).ShouldBe(["ios", "android", "web"]);
        EnumOf(parameters.GetProperty("Accept-Language")).ShouldBe(["en", "es", "fr", "de", "pt-BR"]);
        parameters.GetProperty("Idempotency-Key").GetProperty("required").GetBoolean().ShouldBeTrue();

        string[] clientHeaders = ["X-Device-Id", "X-Platform", "X-App-Version", "Accept-Language"];
        string[] webhooks = ["post /api/v1/checkout/webhooks/stripe", "post /api/v1/purchases/apple/notifications", "post /api/v1/purchases/google/notifications"];
        foreach (var (name, operation) in Operations(root).Where(operation => !webhooks.Contains(operation.Name)))
        {
            clientHeaders.Select(header => $"#/components/parameters/{header}").ShouldBeSubsetOf(ParameterReferences(operation), name);
        }

        // Stripe's, Apple's and Google's servers call the webhooks and send none of an app's headers.
        foreach (var webhook in webhooks)
        {
            ParameterReferences(OperationOf(root, "post", webhook["post ".Length..])).ShouldBeEmpty(webhook);
        }

        ParameterReferences(OperationOf(root, "post", "/api/v1/generations")).ShouldContain("#/components/parameters/Idempotency-Key");
        ParameterReferences(OperationOf(root, "post", "/api/v1/checkout/sessions")).ShouldContain("#/components/parameters/Idempotency-Key");
        ParameterReferences(OperationOf(root, "get", "/api/v1/wallet")).ShouldNotContain("#/components/parameters/Idempotency-Key");
    }

    [Fact]
    public async Task Paged_lists_show_limit_and_cursor_and_filters_by_the_names_the_server_reads()
    {
        var root = await ApiDocumentAsync();
        var transactions = ParameterNames(root, OperationOf(root, "get", "/api/v1/wallet/transactions"));
        string[] transactionParameters = ["kind", "from", "to", "limit", "cursor"];
        transactionParameters.ShouldBeSubsetOf(transactions);
        transactions.ShouldNotContain("Kind");
        string[] pageParameters = ["limit", "cursor"];
        pageParameters.ShouldBeSubsetOf(ParameterNames(root, OperationOf(root, "get", "/api/v1/generations")));
    }

    [Fact]
    public async Task Generation_ids_are_declared_as_uuids_in_paths_and_bodies()
    {
        var root = await ApiDocumentAsync();
        foreach (var path in new[] { "/api/v1/generations/{id}", "/api/v1/generations/{id}/events" })
        {
            var id = OperationOf(root, "get", path).GetProperty("parameters").EnumerateArray()
                .Single(parameter => parameter.TryGetProperty("name", out var name) && name.GetString() == "id");
            id.GetProperty("schema").GetProperty("format").GetString().ShouldBe("uuid", path);
        }

        root.GetProperty("components").GetProperty("schemas").GetProperty("GenerationView").GetProperty("properties").GetProperty("id")
            .GetProperty("format").GetString().ShouldBe("uuid");
    }

    [Fact]
    public async Task Update_me_body_requires_no_field_and_accepts_null()
    {
        var root = await ApiDocumentAsync();
        var schema = root.GetProperty("components").GetProperty("schemas").GetProperty("UpdateMeBody");
        (schema.TryGetProperty("required", out var required) ? required.GetArrayLength() : 0).ShouldBe(0);
        foreach (var field in new[] { "display_name", "locale" })
        {
            schema.GetProperty("properties").GetProperty(field).GetProperty("type").EnumerateArray()
                .Select(type => type.GetString()).ShouldContain("null", field);
        }
    }

    /// <summary>A generated client makes a required field mandatory: an optional one marked required would be sent as null, or refused.</summary>
    [Theory]
    [InlineData("GenerationBody", "type", "prompt")]
    [InlineData("GenerationBodyOptions")]
    [InlineData("AppleSignInBody", "id_token")]
    [InlineData("GitHubSignInBody")]
    [InlineData("CheckoutSessionBody", "pack_id")]
    [InlineData("FeatureFlagBody", "key", "enabled", "description")]
    [InlineData("FeatureFlagUpdateBody", "enabled")]
    public async Task Request_bodies_require_only_the_fields_the_server_refuses_without(string schemaName, params string[] required)
    {
        var root = await ApiDocumentAsync();
        var schema = root.GetProperty("components").GetProperty("schemas").GetProperty(schemaName);
        (schema.TryGetProperty("required", out var declared) ? declared.EnumerateArray().Select(field => field.GetString()).ToList() : [])
            .ShouldBe(required, ignoreOrder: true, schemaName);
    }

    [Fact]
    public async Task Numbers_are_numbers_and_times_are_strings_in_every_schema()
    {
        var root = await ApiDocumentAsync();
        var checkedNumbers = 0;
        foreach (var (name, schema) in Subschemas("#", root))
        {
            if (!schema.TryGetProperty("format", out var format))
            {
                continue;
            }

            var types = schema.TryGetProperty("type", out var type)
                ? type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(item => item.GetString()).ToList() : [type.GetString()]
                : [];
            switch (format.GetString())
            {
                case "int32" or "int64" or "double" or "float":
                    types.ShouldNotContain("string", $"{name} is a number the server always writes as one");
                    schema.TryGetProperty("pattern", out _).ShouldBeFalse(name);
                    checkedNumbers++;
                    break;
                case "date-time":
                    types.ShouldContain("string", name);
                    break;
            }
        }

        checkedNumbers.ShouldBeGreaterThan(5);
    }

    [Fact]
    public async Task Every_operation_has_a_few_word_summary_and_a_description()
    {
        var root = await ApiDocumentAsync();
        foreach (var (name, operation) in Operations(root))
        {
            var summary = operation.TryGetProperty("summary", out var value) ? value.GetString()! : string.Empty;
            summary.ShouldNotBeNullOrWhiteSpace(name);
            summary.Split(' ').Length.ShouldBeLessThanOrEqualTo(6, $"{name}: {summary}");
            summary.ShouldNotEndWith(".", name);
            operation.TryGetProperty("description", out var description).ShouldBeTrue($"{name} has no description");
            description.GetString().ShouldNotBeNullOrWhiteSpace(name);
        }
    }

    [Fact]
    public async Task Provider_sign_ins_declare_link_required_and_its_challenge_and_the_verify_says_it_takes_that_challenge()
    {
        var root = await ApiDocumentAsync();
        foreach (var provider in new[] { "google", "apple", "github" })
        {
            var conflict = OperationOf(root, "post", $"/api/v1/auth/social/{provider}").GetProperty("responses").GetProperty("409");
            conflict.GetProperty("description").GetString().ShouldNotBeNull().ShouldContain("`link_required`", customMessage: provider);
        }

        var challenge = root.GetProperty("components").GetProperty("schemas").GetProperty("ErrorPayload").GetProperty("properties")
            .GetProperty("errors").GetProperty("items").GetProperty("properties").GetProperty("challenge");
        challenge.GetProperty("required").EnumerateArray().Select(item => item.GetString()).ShouldBe(["otp_token", "expires_in", "resend_after"], ignoreOrder: true);
        OperationOf(root, "post", "/api/v1/auth/otp/verify").GetProperty("description").GetString().ShouldNotBeNull().ShouldContain("link_required");
    }

    private async Task<JsonElement> ApiDocumentAsync()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var document = JsonDocument.Parse(await app.Client().GetStringAsync("/openapi/v1.json", Cancel));
        return document.RootElement.Clone();
    }

    private static List<(string Name, JsonElement Operation)> Operations(JsonElement root) =>
        root.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Name: $"{operation.Name} {path.Name}", Operation: operation.Value)))
            .ToList();

    /// <summary>Every object in the document, with its JSON pointer.</summary>
    private static IEnumerable<(string Pointer, JsonElement Value)> Subschemas(string pointer, JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            yield return (pointer, element);
            foreach (var child in element.EnumerateObject().SelectMany(property => Subschemas($"{pointer}/{property.Name}", property.Value)))
            {
                yield return child;
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var child in element.EnumerateArray().SelectMany((item, index) => Subschemas($"{pointer}/{index}", item)))
            {
                yield return child;
            }
        }
    }

    private static JsonElement OperationOf(JsonElement root, string method, string path) =>
        root.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static List<string> SecurityOf(JsonElement root, string method, string path) =>
        OperationOf(root, method, path).GetProperty("security").EnumerateArray()
            .SelectMany(requirement => requirement.EnumerateObject().Select(scheme => scheme.Name)).ToList();

    private static List<string?> EnumOf(JsonElement parameter) =>
        parameter.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(item => item.GetString()).ToList();

    private static List<string> ParameterReferences(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(parameter => parameter.TryGetProperty("$ref", out _))
                .Select(parameter => parameter.GetProperty("$ref").GetString()!).ToList()
            : [];

    /// <summary>The names of an operation's parameters, whether written in place or referenced from components.</summary>
    private static List<string> ParameterNames(JsonElement root, JsonElement operation) =>
        operation.GetProperty("parameters").EnumerateArray().Select(parameter =>
            parameter.TryGetProperty("$ref", out var reference)
                ? root.GetProperty("components").GetProperty("parameters").GetProperty(reference.GetString()!.Split('/')[^1]).GetProperty("name").GetString()!
                : parameter.GetProperty("name").GetString()!).ToList();

    private static string? ErrorSchemaReference(JsonElement response) =>
        response.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();
}
