using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.FeatureFlags;

/// <summary>The flags' API as an app and an operator use it.</summary>
public sealed class FlagsClient(RootApp app)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public HttpClient Http { get; } = app.Client();

    /// <summary>A staff account's access token: signed in, made staff in the database, signed in again (the role is read at sign-in).</summary>
    public async Task<(string AccessToken, Guid UserId)> StaffAsync(string email)
    {
        var auth = new AuthClient(app);
        var first = await auth.SignInAsync(email);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RootDbContext>().Users.Where(user => user.Id == first.User.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(user => user.Role, "staff"), Cancel);
        }

        var again = await auth.SignInAsync(email);
        again.User.Role.ShouldBe("staff");
        return (again.AccessToken, again.User.Id);
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? accessToken, object? body = null, IDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return Http.SendAsync(request, Cancel);
    }

    public async Task<FlagView> CreateOkAsync(string staffToken, object body)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/admin/feature-flags", staffToken, body);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<FlagView>(TestJson.Options, Cancel))!;
    }

    public async Task<FlagView> UpdateOkAsync(string staffToken, string key, object body)
    {
        using var response = await SendAsync(HttpMethod.Put, $"/api/v1/admin/feature-flags/{key}", staffToken, body);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<FlagView>(TestJson.Options, Cancel))!;
    }

    public async Task<IReadOnlyDictionary<string, bool>> FlagsAsync(string? accessToken = null, IDictionary<string, string>? headers = null)
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/v1/feature-flags", accessToken, headers: headers);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<FlagsView>(TestJson.Options, Cancel))!.Flags;
    }

    public sealed record FlagsView(Dictionary<string, bool> Flags);

    public sealed record FlagView(
        string Key, bool Enabled, Dictionary<string, string> Description, int RolloutPercentage, List<string> Roles, List<string> Platforms,
        string? MinAppVersion, string? MaxAppVersion, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, Guid? UpdatedBy, DateTimeOffset CreatedAt,
        DateTimeOffset UpdatedAt);
}
