using System.Net;
using System.Net.Http.Json;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth;

public sealed class AccountTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_user_reads_and_updates_their_profile(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app, "fr");
        var signedIn = await auth.SignInAsync("profile@example.com");
        signedIn.User.Locale.ShouldBe("fr");

        using (var updated = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", signedIn.AccessToken, new { display_name = "  Zoé  ", locale = "pt-BR" }))
        {
            updated.StatusCode.ShouldBe(HttpStatusCode.OK);
            var user = (await updated.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!;
            user.DisplayName.ShouldBe("Zoé");
            user.Locale.ShouldBe("pt-BR");
        }

        using (var untouched = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", signedIn.AccessToken, new { locale = "de" }))
        {
            (await untouched.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!.DisplayName.ShouldBe("Zoé");
        }

        using var invalid = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", signedIn.AccessToken, new { locale = "xx", display_name = new string('a', 101) });
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var payload = await ErrorAssert.ReadAsync(invalid);
        payload.Errors.Select(error => (error.Code, error.Attr)).ShouldBe([("invalid_choice", "locale"), ("max_length", "display_name")], ignoreOrder: true);
        payload.Errors.Single(error => error.Code == "max_length").Detail.ShouldBe("Assurez-vous que ce champ ne comporte pas plus de 100 caractères.");
    }

    [Fact]
    public async Task A_profile_update_with_unknown_fields_names_each_one_and_saves_nothing()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        var auth = new AuthClient(app, "fr");
        var signedIn = await auth.SignInAsync("strict@example.com");

        using var refused = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", signedIn.AccessToken,
            new { display_name = "Kim", nickname = "kimmy", avatar_url = "https://example.com/kim.png" });
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var payload = await ErrorAssert.ReadAsync(refused);
        payload.Type.ShouldBe("validation_error");
        payload.Errors.Select(error => (error.Code, error.Attr)).ShouldBe([("unknown_field", "nickname"), ("unknown_field", "avatar_url")], ignoreOrder: true);
        payload.Errors[0].Detail.ShouldBe("Ce champ n'est pas reconnu.");

        using var me = await auth.GetAsync("/api/v1/auth/me", signedIn.AccessToken);
        (await me.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!.DisplayName.ShouldBeNull();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Deleting_the_account_ends_its_sessions_and_erases_personal_data(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("leaving.for.good@example.com");
        await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", signedIn.AccessToken, new { display_name = "Sam" });

        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", signedIn.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var refresh = await auth.RefreshAsync(signedIn.RefreshToken))
        {
            await ErrorAssert.SingleAsync(refresh, HttpStatusCode.Unauthorized, "client_error", "invalid_token", "refresh_token");
        }

        using (var me = await auth.GetAsync("/api/v1/auth/me", signedIn.AccessToken))
        {
            await ErrorAssert.SingleAsync(me, HttpStatusCode.Unauthorized, "client_error", "authentication_failed");
        }

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<RootDbContext>().Users.SingleAsync(user => user.Id == signedIn.User.Id, Cancel);
            row.Email.ShouldBeNull();
            row.NormalizedEmail.ShouldBeNull();
            row.DisplayName.ShouldBeNull();
            row.DeletedAt.ShouldNotBeNull();
        }

        var again = await auth.SignInAsync("leaving.for.good@example.com");
        again.IsNewUser.ShouldBeTrue();
        again.User.Id.ShouldNotBe(signedIn.User.Id);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Changing_the_email_takes_a_code_sent_to_the_new_address_and_tells_the_old_one(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("old.address@example.com");
        var taken = await auth.SignInAsync("taken@example.com");

        var toTaken = await auth.RequestEmailChangeAsync(signedIn.AccessToken, "TAKEN@example.com");
        using (var refused = await auth.SendAsync(HttpMethod.Post, "/api/v1/auth/me/email/verify", signedIn.AccessToken,
            new { otp_token = toTaken.OtpToken, code = await auth.LastCodeForAsync("TAKEN@example.com") }))
        {
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.Conflict, "client_error", "email_in_use", "email");
        }

        var challenge = await auth.RequestEmailChangeAsync(signedIn.AccessToken, "new.address@example.com");
        using (var othersToken = await auth.SendAsync(HttpMethod.Post, "/api/v1/auth/me/email/verify", taken.AccessToken,
            new { otp_token = challenge.OtpToken, code = await auth.LastCodeForAsync("new.address@example.com") }))
        {
            await ErrorAssert.SingleAsync(othersToken, HttpStatusCode.BadRequest, "validation_error", "invalid", "otp_token");
        }

        var second = await auth.RequestEmailChangeAsync(signedIn.AccessToken, "new.address@example.com");
        using (var switched = await auth.SendAsync(HttpMethod.Post, "/api/v1/auth/me/email/verify", signedIn.AccessToken,
            new { otp_token = second.OtpToken, code = await auth.LastCodeForAsync("new.address@example.com") }))
        {
            switched.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await switched.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!.Email.ShouldBe("new.address@example.com");
        }

        await auth.WaitForMailAsync("old.address@example.com", "new.address@example.com");
        (await auth.SignInAsync("new.address@example.com")).User.Id.ShouldBe(signedIn.User.Id);
        (await auth.SignInAsync("old.address@example.com")).IsNewUser.ShouldBeTrue();
    }

    [Fact]
    public async Task The_export_holds_the_profile_and_sessions_and_nobody_elses()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var auth = new AuthClient(app);
        var mine = await auth.SignInAsync("portable@example.com", deviceId: "phone-9");
        await auth.SignInAsync("someone.else@example.com");

        using var response = await auth.GetAsync("/api/v1/auth/me/export", mine.AccessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        var json = await response.Content.ReadAsStringAsync(Cancel);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        document.RootElement.GetProperty("user").GetProperty("email").GetString().ShouldBe("portable@example.com");
        document.RootElement.GetProperty("sessions").GetArrayLength().ShouldBe(1);
        document.RootElement.GetProperty("sessions")[0].GetProperty("platform").GetString().ShouldBe("ios");
        json.ShouldNotContain("someone.else");
    }
}
