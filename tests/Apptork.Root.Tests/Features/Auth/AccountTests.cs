using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;
using static Apptork.Root.Tests.Features.Files.FileUploads;

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

        using (var switched = await auth.SendAsync(HttpMethod.Post, "/api/v1/auth/me/email/verify", signedIn.AccessToken,
            new { otp_token = challenge.OtpToken, code = await auth.LastCodeForAsync("new.address@example.com") }))
        {
            switched.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await switched.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!.Email.ShouldBe("new.address@example.com");
        }

        await auth.WaitForMailAsync("old.address@example.com", "new.address@example.com");
        (await auth.SignInAsync("new.address@example.com")).User.Id.ShouldBe(signedIn.User.Id);
        (await auth.SignInAsync("old.address@example.com")).IsNewUser.ShouldBeTrue();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Another_accounts_email_change_token_is_unknown_and_its_code_is_neither_tried_nor_spent(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("owner@example.com");
        var intruder = await auth.SignInAsync("intruder@example.com");
        var challenge = await auth.RequestEmailChangeAsync(owner.AccessToken, "owner.new@example.com");
        var code = await auth.LastCodeForAsync("owner.new@example.com");
        var wrong = await auth.WrongCodeForAsync("owner.new@example.com");

        // Five wrong codes would kill the challenge and the right one would use it, were the code tried before the owner.
        foreach (var tried in Enumerable.Repeat(wrong, 5).Append(code))
        {
            using var refused = await auth.SendAsync(HttpMethod.Post, "/api/v1/auth/me/email/verify", intruder.AccessToken,
                new { otp_token = challenge.OtpToken, code = tried });
            await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "validation_error", "invalid", "otp_token");
        }

        using var switched = await auth.SendAsync(HttpMethod.Post, "/api/v1/auth/me/email/verify", owner.AccessToken,
            new { otp_token = challenge.OtpToken, code });
        switched.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await switched.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!.Email.ShouldBe("owner.new@example.com");
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

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_avatar_is_one_of_the_users_own_images_and_goes_when_its_file_is_deleted(DatabaseShape shape)
    {
        await using var app = await StartWithFilesAsync(shape);
        var auth = new AuthClient(app, "de");
        var owner = await auth.SignInAsync("face@example.com");
        var stranger = await auth.SignInAsync("other.face@example.com");
        var picture = RandomNumberGenerator.GetBytes(3000);
        var image = await UploadAsync(auth, owner.AccessToken, "me.png", "image/png", picture);
        var text = await UploadAsync(auth, owner.AccessToken, "me.txt", "text/plain", [1, 2, 3]);
        var pending = (await SignAsync(auth, owner.AccessToken, "later.png", "image/png", 10)).Id;
        var theirs = await UploadAsync(auth, stranger.AccessToken, "them.png", "image/png", [4, 5, 6]);

        foreach (var unusable in new[] { Guid.NewGuid(), theirs })
        {
            using var refused = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", owner.AccessToken, new { avatar_file_id = unusable });
            var error = await ErrorAssert.SingleAsync(refused, HttpStatusCode.BadRequest, "validation_error", "file_not_found", "avatar_file_id");
            error.Detail.ShouldBe("Keine Ihrer Dateien hat diese ID.");
        }

        using (var notImage = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", owner.AccessToken, new { avatar_file_id = text }))
        {
            await ErrorAssert.SingleAsync(notImage, HttpStatusCode.BadRequest, "validation_error", "not_an_image", "avatar_file_id");
        }

        using (var notUploaded = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", owner.AccessToken, new { avatar_file_id = pending }))
        {
            await ErrorAssert.SingleAsync(notUploaded, HttpStatusCode.Conflict, "client_error", "upload_incomplete", "avatar_file_id");
        }

        using (var malformed = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", owner.AccessToken, new { avatar_file_id = "not-a-uuid" }))
        {
            await ErrorAssert.SingleAsync(malformed, HttpStatusCode.BadRequest, "validation_error", "invalid", "avatar_file_id");
        }

        (await MeAsync(auth, owner.AccessToken)).AvatarFileId.ShouldBeNull();
        (await PatchMeAsync(auth, owner.AccessToken, new { avatar_file_id = image })).AvatarFileId.ShouldBe(image);
        // Another field alone leaves the avatar as it is.
        (await PatchMeAsync(auth, owner.AccessToken, new { display_name = "Face" })).AvatarFileId.ShouldBe(image);

        var me = await MeAsync(auth, owner.AccessToken);
        (me.DisplayName, me.AvatarFileId).ShouldBe(("Face", image));
        using (var raw = new HttpClient())
        {
            (await raw.GetByteArrayAsync(me.AvatarUrl.ShouldNotBeNull(), Cancel)).ShouldBe(picture);
        }

        var cleared = await PatchMeAsync(auth, owner.AccessToken, new { avatar_file_id = (Guid?)null });
        (cleared.AvatarFileId, cleared.AvatarUrl, cleared.DisplayName).ShouldBe((null, null, "Face"));
        (await MeAsync(auth, owner.AccessToken)).AvatarFileId.ShouldBeNull();

        await PatchMeAsync(auth, owner.AccessToken, new { avatar_file_id = image });
        using (var deleted = await auth.SendAsync(HttpMethod.Delete, $"/api/v1/files/{image}", owner.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var after = await MeAsync(auth, owner.AccessToken);
        (after.AvatarFileId, after.AvatarUrl).ShouldBe((null, null));
    }

    [Fact]
    public async Task The_export_holds_every_record_of_the_user_in_each_section_and_nobody_elses()
    {
        await using var app = await StartWithFilesAsync(DatabaseShape.Postgres);
        var auth = new AuthClient(app);
        var mine = await auth.SignInAsync("whole.story@example.com", deviceId: "tablet-3");
        var theirs = await auth.SignInAsync("their.story@example.com", deviceId: "laptop-8");
        var bytes = RandomNumberGenerator.GetBytes(500);
        var myFile = await UploadAsync(auth, mine.AccessToken, "my-drawing.png", "image/png", bytes);
        await UploadAsync(auth, theirs.AccessToken, "their-drawing.png", "image/png", [9, 9, 9]);
        await PatchMeAsync(auth, mine.AccessToken, new { avatar_file_id = myFile });

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            var ledger = scope.ServiceProvider.GetRequiredService<Ledger>();
            foreach (var (owner, marker) in new[] { (mine.User.Id, "mine"), (theirs.User.Id, "theirs") })
            {
                await ledger.PostAsync(owner, 120, LedgerEntryKind.Adjustment, $"grant-{marker}", $"ticket:{marker}", "support", $"memo-{marker}", Cancel);
                await ledger.PostAsync(owner, -20, LedgerEntryKind.Generation, $"spend-{marker}", $"spent:{marker}", null, null, Cancel);
                var now = DateTimeOffset.UtcNow;
                db.UserLogins.Add(new IdentityUserLogin<Guid> { UserId = owner, LoginProvider = "github", ProviderKey = $"gh-{marker}", ProviderDisplayName = "GitHub" });
                db.Payments.Add(new Payment
                {
                    Id = Guid.NewGuid(), UserId = owner, PackId = $"pack-{marker}", Credits = 100, Amount = 499, Currency = "eur",
                    Provider = PaymentProvider.Stripe, Flow = PaymentFlow.Checkout, Status = PaymentStatus.Paid, ProviderPaymentId = $"pi_{marker}",
                    PaidAt = now, CreditedAt = now, CreatedAt = now, UpdatedAt = now,
                });
                db.Generations.Add(new Apptork.Root.Features.Generation.Generation
                {
                    Id = Guid.CreateVersion7(now), UserId = owner, Type = GenerationType.Text, Prompt = $"prompt-{marker}", Status = GenerationStatus.Succeeded, Cost = 20, Attempts = 1,
                    ResultText = $"answer-{marker}", CreatedAt = now, UpdatedAt = now, CompletedAt = now,
                });
                db.AccountFlags.Add(new AccountFlag { UserId = owner, Reason = AccountFlag.PaymentShortfall, Reference = $"payment:{marker}", CreatedAt = now });
            }

            await db.SaveChangesAsync(Cancel);
        }

        using var response = await auth.GetAsync("/api/v1/auth/me/export", mine.AccessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var json = await response.Content.ReadAsStringAsync(Cancel);
        using var document = JsonDocument.Parse(json);
        var export = document.RootElement;

        var user = export.GetProperty("user");
        (user.GetProperty("email").GetString(), user.GetProperty("avatar_file_id").GetGuid()).ShouldBe(("whole.story@example.com", myFile));
        user.GetProperty("avatar_url").GetString().ShouldNotBeNullOrEmpty();
        Single(export, "identities").GetProperty("subject").GetString().ShouldBe("gh-mine");
        Single(export, "sessions").GetProperty("platform").GetString().ShouldBe("ios");
        var codes = export.GetProperty("sign_in_codes").EnumerateArray().ToList();
        codes.ShouldNotBeEmpty();
        codes.ShouldAllBe(code => code.GetProperty("email").GetString() == "whole.story@example.com");
        export.GetProperty("wallet").GetProperty("balance").GetInt64().ShouldBe(100);
        var entries = export.GetProperty("ledger").EnumerateArray().ToList();
        entries.Select(entry => (entry.GetProperty("amount").GetInt64(), entry.GetProperty("kind").GetString(), entry.GetProperty("balance_after").GetInt64()))
            .ShouldBe([(120L, "adjustment", 120L), (-20L, "generation", 100L)]);
        entries[0].GetProperty("memo").GetString().ShouldBe("memo-mine");
        var payment = Single(export, "payments");
        (payment.GetProperty("pack_id").GetString(), payment.GetProperty("provider_payment_id").GetString(), payment.GetProperty("status").GetString())
            .ShouldBe(("pack-mine", "pi_mine", "paid"));
        var generation = Single(export, "generations");
        (generation.GetProperty("prompt").GetString(), generation.GetProperty("status").GetString(), generation.GetProperty("cost").GetInt64(),
            generation.GetProperty("result_text").GetString()).ShouldBe(("prompt-mine", "succeeded", 20L, "answer-mine"));
        generation.GetProperty("created_at").GetDateTimeOffset().ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5));
        generation.GetProperty("id").ValueKind.ShouldNotBe(JsonValueKind.Null);
        var file = Single(export, "files");
        (file.GetProperty("id").GetGuid(), file.GetProperty("filename").GetString()).ShouldBe((myFile, "my-drawing.png"));
        using (var raw = new HttpClient())
        {
            (await raw.GetByteArrayAsync(file.GetProperty("download_url").GetString(), Cancel)).ShouldBe(bytes);
        }

        var registration = Single(export, "registrations");
        registration.GetProperty("device_id_hash").GetString().ShouldNotBeNullOrEmpty();
        registration.GetProperty("ip").GetString().ShouldNotBeNullOrEmpty();
        Single(export, "account_flags").GetProperty("reference").GetString().ShouldBe("payment:mine");

        foreach (var theirMarker in new[] { "their.story", "theirs", "their-drawing", theirs.User.Id.ToString() })
        {
            json.ShouldNotContain(theirMarker);
        }
    }

    private static JsonElement Single(JsonElement export, string section)
    {
        var items = export.GetProperty(section).EnumerateArray().ToList();
        items.Count.ShouldBe(1, $"the export's {section}");
        return items[0];
    }

    private static async Task<AuthClient.UserView> PatchMeAsync(AuthClient auth, string token, object body)
    {
        using var response = await auth.SendAsync(HttpMethod.Patch, "/api/v1/auth/me", token, body);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!;
    }

    private static async Task<AuthClient.UserView> MeAsync(AuthClient auth, string token)
    {
        using var response = await auth.GetAsync("/api/v1/auth/me", token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<AuthClient.UserView>(TestJson.Options, Cancel))!;
    }

    /// <summary>On local storage in a folder of the test's own.</summary>
    private Task<RootApp> StartWithFilesAsync(DatabaseShape shape) => RootApp.StartAsync(
        TestDatabases.For(postgres), shape,
        new Dictionary<string, string?> { ["Storage:Provider"] = "Local", ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-files-").FullName });
}
