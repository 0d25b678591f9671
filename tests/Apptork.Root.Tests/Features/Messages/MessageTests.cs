using System.Net;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Features.Messages.MessagesClient;

namespace Apptork.Root.Tests.Features.Messages;

/// <summary>What an app reads from GET /messages and how it dismisses one, on both database shapes.</summary>
public sealed class MessageTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Texts_answer_in_the_caller_s_language_or_the_nearest_one_with_content_language_and_etag(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var messages = new MessagesClient(app);
        var staff = await messages.StaffAsync();
        var brazilian = await messages.CreateAsync(staff.AccessToken, new()
        {
            ["priority"] = 10,
            ["title"] = Texts(("en", "Maintenance"), ("pt-BR", "Manutenção")),
            ["body"] = Texts(("en", "Tonight."), ("pt-BR", "Hoje à noite.")),
            ["action"] = new { label = Texts(("en", "Details"), ("pt-BR", "Detalhes")), url = "https://status.example.com/" },
        });
        await messages.CreateAsync(staff.AccessToken, new()
        {
            ["priority"] = 5,
            ["title"] = Texts(("en", "New version"), ("pt", "Nova versão")),
            ["body"] = Texts(("en", "Update the app."), ("pt", "Atualize o app.")),
        });

        var (inPortuguese, portugueseResponse) = await messages.ListAsync(language: "pt-BR");
        inPortuguese.Results.Select(message => (message.Title, message.Language)).ShouldBe([("Manutenção", "pt-BR"), ("Nova versão", "pt")]);
        inPortuguese.Results[0].Body.ShouldBe("Hoje à noite.");
        inPortuguese.Results[0].Action.ShouldBe(new ActionView("Detalhes", "https://status.example.com/"));
        portugueseResponse.Content.Headers.ContentLanguage.ShouldBe(["pt-BR", "pt"]);

        var (inJapanese, japaneseResponse) = await messages.ListAsync(language: "ja");
        inJapanese.Results.Select(message => (message.Title, message.Language)).ShouldBe([("Maintenance", "en"), ("New version", "en")]);
        japaneseResponse.Content.Headers.ContentLanguage.ShouldBe(["en"]);

        // Polling: the same answer is a 304 with no body; an operator's change makes a new one.
        var etag = japaneseResponse.Headers.ETag.ShouldNotBeNull().Tag;
        using (var unchanged = await messages.GetAsync(language: "ja", ifNoneMatch: etag))
        {
            unchanged.StatusCode.ShouldBe(HttpStatusCode.NotModified);
            (await unchanged.Content.ReadAsStringAsync(Cancel)).ShouldBeEmpty();
        }

        using (var patched = await messages.SendAdminAsync(HttpMethod.Patch, $"/api/v1/admin/messages/{brazilian.Id}", staff.AccessToken,
            new { title = Texts(("en", "Maintenance moved"), ("pt-BR", "Manutenção adiada")) }))
        {
            patched.StatusCode.ShouldBe(HttpStatusCode.OK, await patched.Content.ReadAsStringAsync(Cancel));
        }

        using var changed = await messages.GetAsync(language: "ja", ifNoneMatch: etag);
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        changed.Headers.ETag.ShouldNotBeNull().Tag.ShouldNotBe(etag);
        (await changed.Content.ReadAsStringAsync(Cancel)).ShouldContain("Maintenance moved");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_audience_chooses_by_platform_app_version_sign_in_and_role(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var messages = new MessagesClient(app);
        var staff = await messages.StaffAsync();
        var user = await messages.Auth.SignInAsync("app.user@example.com");
        await messages.CreateAsync(staff.AccessToken, Titled("ios", new { platforms = new List<string> { "ios" } }));
        await messages.CreateAsync(staff.AccessToken, Titled("from 1.10.0", new { min_app_version = "1.10.0" }));
        await messages.CreateAsync(staff.AccessToken, Titled("up to 1.9.9", new { max_app_version = "1.9.9" }));
        await messages.CreateAsync(staff.AccessToken, Titled("anonymous", new { sign_in = "anonymous" }));
        await messages.CreateAsync(staff.AccessToken, Titled("signed in", new { sign_in = "signed_in" }));
        await messages.CreateAsync(staff.AccessToken, Titled("staff", new { roles = new List<string> { "staff" } }));

        (await messages.TitlesAsync(platform: "ios", version: "1.9.9")).ShouldBe(["ios", "up to 1.9.9", "anonymous"], ignoreOrder: true);
        (await messages.TitlesAsync(platform: "android", version: "1.10.0")).ShouldBe(["from 1.10.0", "anonymous"], ignoreOrder: true);
        // An unreadable or missing version is inside no range, and never an error.
        (await messages.TitlesAsync(platform: "web", version: "banana")).ShouldBe(["anonymous"]);
        (await messages.TitlesAsync()).ShouldBe(["anonymous"]);
        (await messages.TitlesAsync(user.AccessToken, version: "2.0")).ShouldBe(["from 1.10.0", "signed in"], ignoreOrder: true);
        (await messages.TitlesAsync(staff.AccessToken)).ShouldBe(["signed in", "staff"], ignoreOrder: true);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_schedule_starts_and_ends_on_the_clock_not_on_the_cache(DatabaseShape shape)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape,
            extensions: new RootApp.TestExtensions(Services: services => services.AddSingleton<TimeProvider>(clock)));
        var messages = new MessagesClient(app);
        var staff = await messages.StaffAsync();
        var now = clock.GetUtcNow();
        await messages.CreateAsync(staff.AccessToken, new() { ["starts_at"] = now.AddHours(1), ["ends_at"] = now.AddHours(2) });
        (await messages.TitlesAsync()).ShouldBeEmpty();

        clock.Advance(TimeSpan.FromHours(1));
        (await messages.TitlesAsync()).ShouldBe(["Maintenance tonight"]);

        clock.Advance(TimeSpan.FromHours(1));
        (await messages.TitlesAsync()).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Dismissals_are_per_user_or_per_device_and_idempotent(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var messages = new MessagesClient(app);
        var staff = await messages.StaffAsync();
        var first = await messages.Auth.SignInAsync("first@example.com");
        var second = await messages.Auth.SignInAsync("second@example.com");
        var dismissible = await messages.CreateAsync(staff.AccessToken, new() { ["title"] = Texts(("en", "Tip")) });
        var critical = await messages.CreateAsync(staff.AccessToken, new() { ["title"] = Texts(("en", "Outage")), ["severity"] = "critical", ["dismissible"] = false });
        var iosOnly = await messages.CreateAsync(staff.AccessToken, new() { ["title"] = Texts(("en", "iOS")), ["audience"] = new { platforms = new List<string> { "ios" } } });

        for (var time = 0; time < 2; time++)
        {
            using var dismissed = await messages.DismissAsync(dismissible.Id, first.AccessToken);
            dismissed.StatusCode.ShouldBe(HttpStatusCode.NoContent, await dismissed.Content.ReadAsStringAsync(Cancel));
        }

        (await messages.TitlesAsync(first.AccessToken)).ShouldBe(["Outage"]);
        (await messages.TitlesAsync(second.AccessToken)).ShouldBe(["Tip", "Outage"], ignoreOrder: true);

        using (var onDevice = await messages.DismissAsync(dismissible.Id, device: "device-a"))
        {
            onDevice.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await messages.TitlesAsync(device: "device-a")).ShouldBe(["Outage"]);
        (await messages.TitlesAsync(device: "device-b")).ShouldBe(["Tip", "Outage"], ignoreOrder: true);

        using (var noDevice = await messages.DismissAsync(dismissible.Id))
        {
            await ErrorAssert.SingleAsync(noDevice, HttpStatusCode.BadRequest, "client_error", "device_id_required");
        }

        using (var refused = await messages.DismissAsync(critical.Id, first.AccessToken))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.Conflict, "client_error", "not_dismissible");
        }

        using (var unknown = await messages.DismissAsync(Guid.CreateVersion7(), first.AccessToken))
        {
            await ErrorAssert.SingleAsync(unknown, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        // Shown to iOS only: to an Android caller it does not exist.
        using (var notShown = await messages.DismissAsync(iosOnly.Id, first.AccessToken, platform: "android"))
        {
            await ErrorAssert.SingleAsync(notShown, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        using var shown = await messages.DismissAsync(iosOnly.Id, first.AccessToken, platform: "ios");
        shown.StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    private static Dictionary<string, object?> Titled(string title, object audience) =>
        new() { ["title"] = Texts(("en", title)), ["audience"] = audience };

    [Theory, MemberData(nameof(Shapes))]
    public async Task Dismissing_a_message_deleted_since_this_process_read_it_is_not_found(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var messages = new MessagesClient(app);
        var staff = await messages.StaffAsync();
        var doomed = await messages.CreateAsync(staff.AccessToken, new() { ["title"] = Texts(("en", "Soon gone")) });
        (await messages.TitlesAsync(device: "device-z")).ShouldBe(["Soon gone"]);

        // Deleted as another process would, with no announcement reaching this one: its board still lists the message.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RootDbContext>().Messages.Where(message => message.Id == doomed.Id).ExecuteDeleteAsync(Cancel);
        }

        using var dismissed = await messages.DismissAsync(doomed.Id, device: "device-z");
        await ErrorAssert.SingleAsync(dismissed, HttpStatusCode.NotFound, "client_error", "not_found");
    }
}
