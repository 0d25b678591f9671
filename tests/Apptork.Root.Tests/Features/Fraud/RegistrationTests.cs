using System.Net;
using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Features.Auth;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Auth.Social;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Fraud;

/// <summary>Deduplication at registration: every test client signs up from 127.0.0.1.</summary>
public sealed class RegistrationTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_ip_cap_refuses_a_new_account_at_verify_while_existing_users_of_that_ip_still_sign_in(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape, ("Fraud:Registration:MaxPerIp", "2"));
        var auth = new AuthClient(app);
        var first = await auth.SignInAsync("first@example.com");
        await auth.SignInAsync("second@example.com");

        // The request answers as for anyone: only the caller who proved the mailbox hears of the cap.
        var requested = await auth.RequestCodeAsync("third@example.com");
        using (var refused = await auth.VerifyAsync(requested.OtpToken, await auth.LastCodeForAsync("third@example.com")))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
            (await ErrorAssert.ReadAsync(refused)).Errors.Single().Code.ShouldBe("registration_limit");
            refused.Headers.RetryAfter!.Delta!.Value.ShouldBeInRange(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(5), TimeSpan.FromHours(24));
        }

        var again = await auth.SignInAsync("first@example.com");
        again.IsNewUser.ShouldBeFalse();
        again.User.Id.ShouldBe(first.User.Id);
        (await RegistrationsAsync(app)).Count.ShouldBe(2);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_provider_sign_up_is_recorded_and_capped_like_an_email_code_one(DatabaseShape shape)
    {
        await using var providers = await LocalProviders.StartAsync();
        await using var app = await StartAsync(shape, [.. providers.Settings.Select(setting => (setting.Key, setting.Value!)), ("Fraud:Registration:MaxPerIp", "2")]);
        var auth = new AuthClient(app);
        var gina = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-gina", "gina@gmail.com") }).SignedInAsync();
        await auth.SignInAsync("by.code@example.com");

        using (var refused = await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-third", "third@gmail.com") }))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
            (await ErrorAssert.ReadAsync(refused)).Errors.Single().Code.ShouldBe("registration_limit");
        }

        (await auth.SocialAsync("google", new { id_token = providers.GoogleIdToken("g-gina", "gina@gmail.com") }).SignedInAsync()).User.Id.ShouldBe(gina.User.Id);
        (await auth.SignInAsync("g.i.n.a@gmail.com")).User.Id.ShouldBe(gina.User.Id);
        var registrations = await RegistrationsAsync(app);
        registrations.Count.ShouldBe(2);
        registrations.Single(registration => registration.UserId == gina.User.Id).EmailHash.ShouldNotBeNull("Google is the authority for a Gmail address");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_second_account_on_a_device_is_created_without_the_signup_bonus_by_default(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var parent = await auth.SignInAsync("parent@example.com", "family-tablet");
        var child = await auth.SignInAsync("child@example.com", "family-tablet");
        var elsewhere = await auth.SignInAsync("elsewhere@example.com", "own-phone");
        var anonymousDevice = await auth.SignInAsync("no.header@example.com");

        child.IsNewUser.ShouldBeTrue();
        var bonuses = (await RegistrationsAsync(app)).ToDictionary(registration => registration.UserId, registration => registration.BonusEligible);
        bonuses[parent.User.Id].ShouldBeTrue();
        bonuses[child.User.Id].ShouldBeFalse();
        bonuses[elsewhere.User.Id].ShouldBeTrue();
        bonuses[anonymousDevice.User.Id].ShouldBeTrue();
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_refuse_policy_answers_a_second_account_on_a_device_with_duplicate_account(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape, ("Fraud:Registration:SharedDevice", "Refuse"));
        var auth = new AuthClient(app);
        var owner = await auth.SignInAsync("owner@example.com", "one-phone");

        var requested = await auth.RequestCodeAsync("second.account@example.com");
        using (var refused = await auth.VerifyAsync(requested.OtpToken, await auth.LastCodeForAsync("second.account@example.com"), "one-phone"))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await ErrorAssert.ReadAsync(refused)).Errors.Single().Code.ShouldBe("duplicate_account");
        }

        (await auth.SignInAsync("owner@example.com", "one-phone")).User.Id.ShouldBe(owner.User.Id);
        (await RegistrationsAsync(app)).Select(registration => registration.UserId).ShouldBe([owner.User.Id]);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task An_address_signing_up_again_after_deleting_its_account_gets_no_second_bonus(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var original = await auth.SignInAsync("returning@example.com");
        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", original.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var recreated = await auth.SignInAsync("Returning@Example.com");

        recreated.IsNewUser.ShouldBeTrue();
        recreated.User.Id.ShouldNotBe(original.User.Id);
        var registrations = await RegistrationsAsync(app);
        registrations.Single(registration => registration.UserId == original.User.Id).BonusEligible.ShouldBeTrue();
        registrations.Single(registration => registration.UserId == original.User.Id).Ip.ShouldBeNull("the deleted account's IP address is erased");
        registrations.Single(registration => registration.UserId == recreated.User.Id).BonusEligible.ShouldBeFalse();
        // Only a keyed hash of the canonical address is kept: a plain hash could be found again by hashing known addresses.
        EmailNormalizer.TryNormalize("returning@example.com", out var normalized).ShouldBeTrue();
        var canonical = Encoding.UTF8.GetBytes(normalized.CanonicalKey);
        var keyed = HMACSHA256.HashData(app.Services.GetRequiredService<AuthKeys>().RegistrationKey, canonical);
        keyed.ShouldNotBe(SHA256.HashData(canonical));
        registrations.ShouldAllBe(registration => registration.EmailHash!.SequenceEqual(keyed), "both registrations keep the keyed hash of the one mailbox");
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Another_spelling_of_a_gmail_address_signs_in_to_the_same_account_without_a_new_registration(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var original = await auth.SignInAsync("ab@gmail.com");

        var alias = await auth.SignInAsync("a.b+x@googlemail.com");

        alias.IsNewUser.ShouldBeFalse();
        alias.User.Id.ShouldBe(original.User.Id);
        (await RegistrationsAsync(app)).Count.ShouldBe(1);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Operators_see_the_accounts_linked_by_device_ip_or_address(DatabaseShape shape)
    {
        await using var app = await StartAsync(shape);
        var auth = new AuthClient(app);
        var ana = await auth.SignInAsync("ana@example.com", "shared-device");
        var bia = await auth.SignInAsync("bia@example.com", "shared-device");
        var caio = await auth.SignInAsync("caio@example.com", "caio-phone");
        using (var deleted = await auth.SendAsync(HttpMethod.Delete, "/api/v1/auth/me", caio.AccessToken))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        var caioAgain = await auth.SignInAsync("caio@example.com", "caio-new-phone");

        // The deleted account's IP address was erased with it; its address hash still links it.
        (await LinkedAsync(app, ana.User.Id)).ShouldBe(
        [
            (bia.User.Id, "Device,Ip"),
            (caioAgain.User.Id, "Ip"),
        ], ignoreOrder: true);
        (await LinkedAsync(app, caioAgain.User.Id)).ShouldBe(
        [
            (ana.User.Id, "Ip"),
            (bia.User.Id, "Ip"),
            (caio.User.Id, "Email"),
        ], ignoreOrder: true);
        (await LinkedAsync(app, Guid.NewGuid())).ShouldBeEmpty();
    }

    private Task<RootApp> StartAsync(DatabaseShape shape, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Throttling:Rates:otp:anonymous"] = "1000/hour",
            ["Throttling:Rates:otp:email"] = "1000/hour",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return RootApp.StartAsync(TestDatabases.For(postgres), shape, all);
    }

    private static async Task<List<Registration>> RegistrationsAsync(RootApp app)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<RootDbContext>().Registrations.AsNoTracking().ToListAsync(Cancel);
    }

    /// <summary>As (user, signals in order) pairs: the records compare their signal lists by reference.</summary>
    private static async Task<List<(Guid, string)>> LinkedAsync(RootApp app, Guid userId)
    {
        using var scope = app.Services.CreateScope();
        var linked = await scope.ServiceProvider.GetRequiredService<RegistrationGuard>().LinkedAccountsAsync(userId, Cancel);
        return linked.Select(account => (account.UserId, string.Join(",", account.Signals))).ToList();
    }
}
