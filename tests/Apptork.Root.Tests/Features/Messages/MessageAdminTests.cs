using System.Net;
using System.Net.Http.Json;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Features.Messages.MessagesClient;

namespace Apptork.Root.Tests.Features.Messages;

/// <summary>The operators' API under /admin/messages: staff only, every bad input named, every change signed and dated.</summary>
public sealed class MessageAdminTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    public static TheoryData<string, object, string, string> BadInputs => new()
    {
        { "ends before it starts", new { starts_at = "2030-01-02T00:00:00Z", ends_at = "2030-01-01T00:00:00Z" }, "invalid", "ends_at" },
        { "a malformed version", new { audience = new { min_app_version = "1.x" } }, "invalid", "audience.min_app_version" },
        { "an empty version range", new { audience = new { min_app_version = "1.10.0", max_app_version = "1.9.9" } }, "invalid", "audience.max_app_version" },
        { "an unsupported language", new { title = new Dictionary<string, string> { ["en"] = "Hi", ["ja"] = "こんにちは" } }, "invalid_choice", "title.ja" },
        { "no English text", new { body = new Dictionary<string, string> { ["fr"] = "Salut" } }, "required", "body.en" },
        { "an unknown severity", new { severity = "fatal" }, "invalid_choice", "severity" },
        { "an unknown platform", new { audience = new { platforms = new List<string> { "ios", "windows" } } }, "invalid_choice", "audience.platforms.1" },
        { "an unknown role", new { audience = new { roles = new List<string> { "admin" } } }, "invalid_choice", "audience.roles.0" },
        { "roles for anonymous callers", new { audience = new { sign_in = "anonymous", roles = new List<string> { "free" } } }, "invalid", "audience.roles" },
        { "an unknown sign-in", new { audience = new { sign_in = "robots" } }, "invalid_choice", "audience.sign_in" },
        { "a priority out of range", new { priority = 1001 }, "max_value", "priority" },
        { "a negative priority", new { priority = -1 }, "min_value", "priority" },
        { "a script for an action", new { action = new { label = new { en = "Go" }, url = "javascript://%0aalert(1)" } }, "invalid", "action.url" },
        { "a relative action", new { action = new { label = new { en = "Go" }, url = "/settings" } }, "invalid", "action.url" },
        { "an action without a label", new { action = new { url = "myapp://settings" } }, "required", "action.label" },
        { "an unknown field", new { colour = "red" }, "unknown_field", "colour" },
    };

    [Fact]
    public async Task Only_staff_reach_the_admin_api()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var messages = new MessagesClient(app);
        var user = await messages.Auth.SignInAsync("not.staff@example.com");

        using (var anonymous = await messages.SendAdminAsync(HttpMethod.Get, "/api/v1/admin/messages", null))
        {
            await ErrorAssert.SingleAsync(anonymous, HttpStatusCode.Unauthorized, "client_error", "not_authenticated");
        }

        using (var appUser = await messages.SendAdminAsync(HttpMethod.Post, "/api/v1/admin/messages", user.AccessToken, WithDefaults([])))
        {
            await ErrorAssert.SingleAsync(appUser, HttpStatusCode.Forbidden, "client_error", "permission_denied");
        }

        (await messages.TitlesAsync()).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_with_its_code_at_its_field(string why, object fields, string code, string attr)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var messages = new MessagesClient(app);
        var staff = await messages.StaffAsync();
        var body = WithDefaults(System.Text.Json.JsonSerializer.SerializeToElement(fields).EnumerateObject()
            .ToDictionary(property => property.Name, property => (object?)property.Value));

        using var response = await messages.SendAdminAsync(HttpMethod.Post, "/api/v1/admin/messages", staff.AccessToken, body);
        (await ErrorAssert.ReadAsync(response)).Errors.ShouldContain(error => error.Code == code && error.Attr == attr, why);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, why);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Every_change_records_who_and_when_and_reaches_the_apps(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var messages = new MessagesClient(app);
        var author = await messages.StaffAsync("author@example.com");
        var editor = await messages.StaffAsync("editor@example.com");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var created = await messages.CreateAsync(author.AccessToken, new()
        {
            ["ends_at"] = DateTimeOffset.UtcNow.AddDays(1),
            ["action"] = new { label = Texts(("en", "Open")), url = "myapp://status" },
            ["audience"] = new { platforms = new List<string> { "ios", "android" }, min_app_version = "1.2", roles = new List<string> { "free", "premium" } },
        });
        created.CreatedBy.ShouldBe(author.User.Id);
        created.UpdatedBy.ShouldBe(author.User.Id);
        created.CreatedAt.ShouldBeGreaterThan(before);
        created.Action.ShouldNotBeNull().Url.ShouldBe("myapp://status");
        created.Audience.ShouldBe(new AudienceView(["ios", "android"], "1.2", null, "everyone", ["free", "premium"]), new AudienceComparer());

        // A later start cannot pass the stored end: the schedule is checked as a whole.
        using (var late = await messages.SendAdminAsync(HttpMethod.Patch, $"/api/v1/admin/messages/{created.Id}", editor.AccessToken,
            new { starts_at = DateTimeOffset.UtcNow.AddDays(2) }))
        {
            await ErrorAssert.SingleAsync(late, HttpStatusCode.BadRequest, "validation_error", "invalid", "ends_at");
        }

        AdminView updated;
        using (var patched = await messages.SendAdminAsync(HttpMethod.Patch, $"/api/v1/admin/messages/{created.Id}", editor.AccessToken,
            new { priority = 7, action = (object?)null, ends_at = (object?)null }))
        {
            patched.StatusCode.ShouldBe(HttpStatusCode.OK, await patched.Content.ReadAsStringAsync(Cancel));
            updated = (await patched.Content.ReadFromJsonAsync<AdminView>(TestJson.Options, Cancel))!;
        }

        updated.CreatedBy.ShouldBe(author.User.Id);
        updated.UpdatedBy.ShouldBe(editor.User.Id);
        updated.UpdatedAt.ShouldBeGreaterThanOrEqualTo(created.UpdatedAt);
        (updated.Priority, updated.Action, updated.EndsAt, updated.Title["en"]).ShouldBe((7, null, null, "Maintenance tonight"));

        var read = await messages.Auth.Http.SendAsync(Get($"/api/v1/admin/messages/{created.Id}", editor.AccessToken), Cancel);
        (await read.Content.ReadFromJsonAsync<AdminView>(TestJson.Options, Cancel))!.UpdatedBy.ShouldBe(editor.User.Id);
        using (var list = await messages.SendAdminAsync(HttpMethod.Get, "/api/v1/admin/messages?limit=1", editor.AccessToken))
        {
            list.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await list.Content.ReadAsStringAsync(Cancel)).ShouldContain(created.Id.ToString());
        }

        var user = await messages.Auth.SignInAsync("reader@example.com");
        (await messages.TitlesAsync(user.AccessToken, platform: "ios", version: "1.2.0")).ShouldBe(["Maintenance tonight"]);

        using (var deleted = await messages.SendAdminAsync(HttpMethod.Delete, $"/api/v1/admin/messages/{created.Id}", editor.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await messages.TitlesAsync(user.AccessToken, platform: "ios", version: "1.2.0")).ShouldBeEmpty();
        using var gone = await messages.SendAdminAsync(HttpMethod.Delete, $"/api/v1/admin/messages/{created.Id}", editor.AccessToken);
        await ErrorAssert.SingleAsync(gone, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    private static HttpRequestMessage Get(string path, string token) =>
        new(HttpMethod.Get, path) { Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token) } };

    private sealed class AudienceComparer : IEqualityComparer<AudienceView>
    {
        public bool Equals(AudienceView? x, AudienceView? y) =>
            x is not null && y is not null && x.Platforms.SequenceEqual(y.Platforms) && x.Roles.SequenceEqual(y.Roles)
            && (x.MinAppVersion, x.MaxAppVersion, x.SignIn) == (y.MinAppVersion, y.MaxAppVersion, y.SignIn);

        public int GetHashCode(AudienceView obj) => obj.SignIn.GetHashCode(StringComparison.Ordinal);
    }
}
