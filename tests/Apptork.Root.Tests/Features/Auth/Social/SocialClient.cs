using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth.Social;

/// <summary>What an app does with a provider's credential: posts it, signed in (to link) or not (to sign in).</summary>
internal static class SocialClient
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> SocialAsync(this AuthClient auth, string provider, object body, string? accessToken = null) =>
        accessToken is null
            ? auth.Http.PostAsJsonAsync($"/api/v1/auth/social/{provider}", body, Cancel)
            : auth.SendAsync(HttpMethod.Post, $"/api/v1/auth/social/{provider}", accessToken, body);

    public static async Task<AuthClient.SignedIn> SignedInAsync(this Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<AuthClient.SignedIn>(TestJson.Options, Cancel))!;
    }

    /// <summary>
    /// A sign-in refused with 409 <c>link_required</c>: no tokens, and the email-code challenge the app shows the code
    /// screen for. The code goes to <paramref name="accountEmail"/>, the address of the account the identity would join.
    /// </summary>
    public static async Task<AuthClient.OtpRequested> LinkRequiredAsync(this AuthClient auth, HttpResponseMessage response, string accountEmail)
    {
        await ErrorAssert.SingleAsync(response, HttpStatusCode.Conflict, "client_error", "link_required");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        document.RootElement.TryGetProperty("access_token", out _).ShouldBeFalse();
        var challenge = document.RootElement.GetProperty("errors")[0].GetProperty("challenge").Deserialize<AuthClient.OtpRequested>(TestJson.Options)!;
        challenge.OtpToken.Length.ShouldBeGreaterThanOrEqualTo(43);
        challenge.ExpiresIn.ShouldBe(600);
        challenge.ResendAfter.ShouldBe(60);
        auth.ExpectCode(accountEmail);
        return challenge;
    }

    /// <summary>The account's ways in, as <c>GET /auth/identities</c> lists them.</summary>
    public static async Task<(string Provider, string? Email)[]> IdentitiesAsync(this AuthClient auth, string accessToken)
    {
        using var response = await auth.GetAsync("/api/v1/auth/identities", accessToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        return document.RootElement.GetProperty("results").EnumerateArray()
            .Select(identity => (identity.GetProperty("provider").GetString()!, identity.GetProperty("email").GetString()))
            .ToArray();
    }

    public static async Task<T> InDatabaseAsync<T>(this RootApp app, Func<RootDbContext, Task<T>> query)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<RootDbContext>());
    }

    /// <summary>The provider identities stored for a user, straight from the database.</summary>
    public static Task<List<string>> StoredIdentitiesAsync(this RootApp app, Guid userId) =>
        app.InDatabaseAsync(db => db.UserLogins.Where(login => login.UserId == userId)
            .OrderBy(login => login.LoginProvider).Select(login => login.LoginProvider + ":" + login.ProviderKey).ToListAsync(Cancel));
}
