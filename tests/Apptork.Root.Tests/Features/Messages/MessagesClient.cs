using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Messages;

/// <summary>Drives the messages API as an app (headers it sends) and as an operator (a staff token), over HTTP.</summary>
public sealed class MessagesClient(RootApp app)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public AuthClient Auth { get; } = new(app);

    /// <summary>A user given <paramref name="role"/> in the database, then signed in again: the role is read into the token at sign-in.</summary>
    public async Task<AuthClient.SignedIn> SignInAsAsync(string email, string role)
    {
        var first = await Auth.SignInAsync(email);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            await db.Users.Where(user => user.Id == first.User.Id).ExecuteUpdateAsync(set => set.SetProperty(user => user.Role, role), Cancel);
        }

        var again = await Auth.SignInAsync(email);
        again.User.Role.ShouldBe(role);
        return again;
    }

    public Task<AuthClient.SignedIn> StaffAsync(string email = "operator@example.com") => SignInAsAsync(email, UserRoles.Staff);

    /// <summary>A message with English texts only, for everyone, dismissible, unless <paramref name="fields"/> say otherwise.</summary>
    public async Task<AdminView> CreateAsync(string staffToken, Dictionary<string, object?> fields)
    {
        using var response = await SendAdminAsync(HttpMethod.Post, "/api/v1/admin/messages", staffToken, WithDefaults(fields));
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
        return (await response.Content.ReadFromJsonAsync<AdminView>(TestJson.Options, Cancel))!;
    }

    public static Dictionary<string, object?> WithDefaults(Dictionary<string, object?> fields)
    {
        var body = new Dictionary<string, object?>
        {
            ["severity"] = "info",
            ["title"] = new Dictionary<string, string> { ["en"] = "Maintenance tonight" },
            ["body"] = new Dictionary<string, string> { ["en"] = "The service pauses from 2 to 3 UTC." },
        };
        foreach (var (key, value) in fields)
        {
            body[key] = value;
        }

        return body;
    }

    public Task<HttpResponseMessage> SendAdminAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return Auth.Http.SendAsync(request, Cancel);
    }

    /// <summary>GET /messages as an app sends it; null headers are left out.</summary>
    public Task<HttpResponseMessage> GetAsync(
        string? token = null, string? language = null, string? platform = null, string? version = null, string? device = null, string? ifNoneMatch = null) =>
        Auth.Http.SendAsync(AppRequest(HttpMethod.Get, "/api/v1/messages", token, language, platform, version, device, ifNoneMatch), Cancel);

    public async Task<(MessageList List, HttpResponseMessage Response)> ListAsync(
        string? token = null, string? language = null, string? platform = null, string? version = null, string? device = null)
    {
        var response = await GetAsync(token, language, platform, version, device);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return ((await response.Content.ReadFromJsonAsync<MessageList>(TestJson.Options, Cancel))!, response);
    }

    public async Task<IReadOnlyList<string>> TitlesAsync(
        string? token = null, string? language = null, string? platform = null, string? version = null, string? device = null)
    {
        var (list, response) = await ListAsync(token, language, platform, version, device);
        response.Dispose();
        return list.Results.Select(message => message.Title).ToList();
    }

    public Task<HttpResponseMessage> DismissAsync(Guid id, string? token = null, string? device = null, string? platform = null) =>
        Auth.Http.SendAsync(AppRequest(HttpMethod.Post, $"/api/v1/messages/{id}/dismiss", token, null, platform, null, device, null), Cancel);

    private static HttpRequestMessage AppRequest(
        HttpMethod method, string path, string? token, string? language, string? platform, string? version, string? device, string? ifNoneMatch)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(language);
        }

        foreach (var (name, value) in new[] { ("X-Platform", platform), ("X-App-Version", version), ("X-Device-Id", device), ("If-None-Match", ifNoneMatch) })
        {
            if (value is not null)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    public static Dictionary<string, string> Texts(params (string Language, string Text)[] texts) => texts.ToDictionary(text => text.Language, text => text.Text);

    public sealed record MessageList(IReadOnlyList<MessageView> Results);

    public sealed record MessageView(
        Guid Id, string Severity, string Title, string Body, ActionView? Action, DateTimeOffset StartsAt, DateTimeOffset? EndsAt, bool Dismissible, int Priority,
        string Language);

    public sealed record ActionView(string Label, string Url);

    public sealed record AdminView(
        Guid Id, string Severity, Dictionary<string, string> Title, Dictionary<string, string> Body, AdminActionView? Action, DateTimeOffset StartsAt,
        DateTimeOffset? EndsAt, AudienceView Audience, bool Dismissible, int Priority, Guid CreatedBy, DateTimeOffset CreatedAt, Guid UpdatedBy,
        DateTimeOffset UpdatedAt);

    public sealed record AdminActionView(Dictionary<string, string> Label, string Url);

    public sealed record AudienceView(IReadOnlyList<string> Platforms, string? MinAppVersion, string? MaxAppVersion, string SignIn, IReadOnlyList<string> Roles);
}
