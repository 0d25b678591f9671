using System.Net;
using System.Net.Http.Headers;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.FeatureFlags;

public sealed class FeatureFlagApiTests(PostgresServer postgres)
{
    private const string Admin = "/api/v1/admin/feature-flags";

    private static readonly string[] PremiumOnly = ["premium"];
    private static readonly string[] IosOnly = ["ios"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    private static Dictionary<string, object?> Flag(string key, bool enabled = true, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["key"] = key, ["enabled"] = enabled, ["description"] = new Dictionary<string, string> { ["en"] = $"The {key} flag", ["fr"] = $"Le drapeau {key}" } };
        foreach (var property in extra?.GetType().GetProperties() ?? [])
        {
            body[property.Name] = property.GetValue(extra);
        }

        return body;
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Only_staff_manage_flags_and_every_change_records_who_and_when(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var flags = new FlagsClient(app);
        using (var anonymous = await flags.SendAsync(HttpMethod.Get, Admin, null))
        {
            await ErrorAssert.SingleAsync(anonymous, HttpStatusCode.Unauthorized, "client_error", "not_authenticated");
        }

        var appUser = await new AuthClient(app).SignInAsync("app.user@example.com");
        using (var refused = await flags.SendAsync(HttpMethod.Post, Admin, appUser.AccessToken, Flag("dark_mode")))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.Forbidden, "client_error", "permission_denied");
        }

        var (staff, staffId) = await flags.StaffAsync("operator@example.com");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var created = await flags.CreateOkAsync(staff, Flag("dark_mode", extra: new { rollout_percentage = 40, roles = PremiumOnly }));
        (created.Key, created.Enabled, created.RolloutPercentage, created.UpdatedBy).ShouldBe(("dark_mode", true, 40, (Guid?)staffId));
        created.Roles.ShouldBe(["premium"]);
        created.Description.ShouldBe(new Dictionary<string, string> { ["en"] = "The dark_mode flag", ["fr"] = "Le drapeau dark_mode" });
        created.UpdatedAt.ShouldBeGreaterThan(before);

        var (otherStaff, otherStaffId) = await flags.StaffAsync("second.operator@example.com");
        var updated = await flags.UpdateOkAsync(otherStaff, "dark_mode", new { enabled = false });
        (updated.Enabled, updated.RolloutPercentage, updated.UpdatedBy).ShouldBe((false, 100, (Guid?)otherStaffId));
        updated.UpdatedAt.ShouldBeGreaterThanOrEqualTo(created.UpdatedAt);
        updated.Description["fr"].ShouldBe("Le drapeau dark_mode");

        using (var deleted = await flags.SendAsync(HttpMethod.Delete, $"{Admin}/dark_mode", staff))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using var gone = await flags.SendAsync(HttpMethod.Get, $"{Admin}/dark_mode", staff);
        await ErrorAssert.SingleAsync(gone, HttpStatusCode.NotFound, "client_error", "not_found");
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { """{"key":"big","enabled":true,"description":{"en":"x"},"rollout_percentage":101}""", "max_value", "rollout_percentage" },
        { """{"key":"small","enabled":true,"description":{"en":"x"},"rollout_percentage":-1}""", "min_value", "rollout_percentage" },
        { """{"key":"window","enabled":true,"description":{"en":"x"},"starts_at":"2027-01-02T00:00:00Z","ends_at":"2027-01-01T00:00:00Z"}""", "invalid", "ends_at" },
        { """{"key":"old","enabled":true,"description":{"en":"x"},"min_app_version":"one.two"}""", "invalid", "min_app_version" },
        { """{"key":"range","enabled":true,"description":{"en":"x"},"min_app_version":"1.10.0","max_app_version":"1.9.9"}""", "invalid", "max_app_version" },
        { """{"key":"words","enabled":true,"description":{"en":"x","xx":"y"}}""", "invalid_choice", "description.xx" },
        { """{"key":"nodefault","enabled":true,"description":{"fr":"x"}}""", "required", "description.en" },
        { """{"key":"roles","enabled":true,"description":{"en":"x"},"roles":["admin"]}""", "invalid_choice", "roles.0" },
        { """{"key":"platforms","enabled":true,"description":{"en":"x"},"platforms":["ios","windows"]}""", "invalid_choice", "platforms.1" },
        { """{"key":"Not-Snake","enabled":true,"description":{"en":"x"}}""", "invalid", "key" },
    };

    [Theory, MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_at_its_field(string json, string code, string attr)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var flags = new FlagsClient(app);
        var (staff, _) = await flags.StaffAsync("picky.operator@example.com");
        using var request = new HttpRequestMessage(HttpMethod.Post, Admin) { Content = new StringContent(json, new MediaTypeHeaderValue("application/json")) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", staff);
        using var response = await flags.Http.SendAsync(request, Cancel);
        await ErrorAssert.SingleAsync(response, HttpStatusCode.BadRequest, "validation_error", code, attr);
    }

    [Fact]
    public async Task A_key_that_exists_already_is_a_conflict_at_key()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var flags = new FlagsClient(app);
        var (staff, _) = await flags.StaffAsync("twice.operator@example.com");
        await flags.CreateOkAsync(staff, Flag("twice"));
        using var again = await flags.SendAsync(HttpMethod.Post, Admin, staff, Flag("twice", enabled: false));
        await ErrorAssert.SingleAsync(again, HttpStatusCode.Conflict, "client_error", "conflict", "key");
    }

    [Fact]
    public async Task A_poll_sees_a_schedule_start_and_end_on_time_though_nothing_else_changed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var flags = new FlagsClient(app);
        var (staff, _) = await flags.StaffAsync("scheduling.operator@example.com");
        var now = clock.GetUtcNow();
        await flags.CreateOkAsync(staff, Flag("sale", extra: new { starts_at = now.AddHours(1), ends_at = now.AddHours(2) }));

        // Each poll after the first is answered from the caller's kept evaluation, until a schedule starts or ends.
        (await flags.FlagsAsync())["sale"].ShouldBeFalse();
        (await flags.FlagsAsync())["sale"].ShouldBeFalse();
        clock.Advance(TimeSpan.FromHours(1));
        (await flags.FlagsAsync())["sale"].ShouldBeTrue();
        clock.Advance(TimeSpan.FromHours(1));
        (await flags.FlagsAsync())["sale"].ShouldBeFalse();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Apps_get_every_flag_for_themselves_with_an_etag_answered_304_until_something_changes_for_them(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var flags = new FlagsClient(app);
        // A fresh installation: the built-in gates are listed, on.
        (await flags.FlagsAsync()).ShouldBe(new Dictionary<string, bool> { ["ai_generation"] = true, ["checkout"] = true });

        var (staff, _) = await flags.StaffAsync("poller.operator@example.com");
        await flags.CreateOkAsync(staff, Flag("widgets", extra: new { platforms = IosOnly, min_app_version = "1.10.0" }));
        var ios = new Dictionary<string, string> { ["X-Platform"] = "ios", ["X-App-Version"] = "1.10.0" };
        (await flags.FlagsAsync(headers: ios))["widgets"].ShouldBeTrue();
        (await flags.FlagsAsync(headers: new Dictionary<string, string> { ["X-Platform"] = "ios", ["X-App-Version"] = "1.9.9" }))["widgets"].ShouldBeFalse();
        (await flags.FlagsAsync(headers: new Dictionary<string, string> { ["X-Platform"] = "android", ["X-App-Version"] = "1.10.0" }))["widgets"].ShouldBeFalse();
        // A header an app got wrong is an unknown version, never an error.
        (await flags.FlagsAsync(headers: new Dictionary<string, string> { ["X-Platform"] = "ios", ["X-App-Version"] = "%%%" }))["widgets"].ShouldBeFalse();
        (await flags.FlagsAsync(staff, ios)).Keys.ShouldBe(["ai_generation", "checkout", "widgets"], ignoreOrder: true);

        string etag;
        using (var first = await flags.SendAsync(HttpMethod.Get, "/api/v1/feature-flags", null, headers: ios))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.OK);
            etag = first.Headers.ETag!.Tag;
        }

        using (var unchanged = await flags.SendAsync(HttpMethod.Get, "/api/v1/feature-flags", null, headers: new Dictionary<string, string>(ios) { ["If-None-Match"] = etag }))
        {
            unchanged.StatusCode.ShouldBe(HttpStatusCode.NotModified);
            unchanged.Headers.ETag!.Tag.ShouldBe(etag);
            (await unchanged.Content.ReadAsByteArrayAsync(Cancel)).ShouldBeEmpty();
        }

        await flags.UpdateOkAsync(staff, "widgets", new { enabled = false });
        using var changed = await flags.SendAsync(HttpMethod.Get, "/api/v1/feature-flags", null, headers: new Dictionary<string, string>(ios) { ["If-None-Match"] = etag });
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        changed.Headers.ETag!.Tag.ShouldNotBe(etag);
    }

    [Fact]
    public async Task The_gates_refuse_in_the_caller_s_language_and_charge_nothing_and_a_missing_flag_is_on()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, new Dictionary<string, string?>
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-flags-").FullName,
        });
        var flags = new FlagsClient(app);
        var (staff, _) = await flags.StaffAsync("gatekeeper@example.com");
        await flags.CreateOkAsync(staff, Flag("ai_generation", enabled: false));
        await flags.CreateOkAsync(staff, Flag("checkout", enabled: false));
        var user = await new AuthClient(app).SignInAsync("gated.user@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(user.User.Id, 10, "grant", LedgerEntryKind.Adjustment);

        var details = new List<string>();
        foreach (var language in new[] { "en", "es", "fr", "de", "pt-BR" })
        {
            using var refused = await new GenerationClient(app, user.AccessToken, language).CreateAsync("text", "a poem", Guid.NewGuid().ToString());
            details.Add((await ErrorAssert.SingleAsync(refused, HttpStatusCode.Forbidden, "client_error", "feature_disabled")).Detail);
            refused.Content.Headers.ContentLanguage.ShouldBe([language]);
        }

        details.Distinct().Count().ShouldBe(5);
        using (var checkout = await new CheckoutClient(app).StartAsync(user.AccessToken, "starter"))
        {
            await ErrorAssert.SingleAsync(checkout, HttpStatusCode.Forbidden, "client_error", "feature_disabled");
        }

        (await books.BalanceAsync(user.User.Id)).ShouldBe(10);
        (await books.EntriesAsync(user.User.Id)).Count.ShouldBe(1);

        // Deleted, the flags no longer exist: the built-in gates are on again.
        foreach (var key in new[] { "ai_generation", "checkout" })
        {
            using var deleted = await flags.SendAsync(HttpMethod.Delete, $"{Admin}/{key}", staff);
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        await new GenerationClient(app, user.AccessToken).CreateOkAsync("text", "a poem");
        await new CheckoutClient(app).StartOkAsync(user.AccessToken, "starter");
        (await books.BalanceAsync(user.User.Id)).ShouldBe(9);
    }
}
