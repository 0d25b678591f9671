using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>
/// A browser's part of the control plane over plain HTTP: its own cookie jar (the production shape's cookies are
/// Secure, which HttpClient's jar would not send over the tests' http), no redirects followed, and the antiforgery
/// token of the last page read, posted with each form as a browser would.
/// </summary>
public sealed partial class AdminClient(Uri baseAddress) : IDisposable
{
    public const string Path = "/admin";

    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = baseAddress };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public Dictionary<string, string> Cookies { get; } = [];

    /// <summary>The antiforgery token of the last page read; null until a page with a form was read.</summary>
    public string? FormToken { get; private set; }

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        if (Cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(cookie => $"{cookie.Key}={cookie.Value}")));
        }

        var response = await http.SendAsync(request, Cancel);
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var nameValue = header.Split(';')[0];
            var (name, value) = (nameValue[..nameValue.IndexOf('=', StringComparison.Ordinal)], nameValue[(nameValue.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
            {
                Cookies.Remove(name);
            }
            else
            {
                Cookies[name] = value;
            }
        }

        return response;
    }

    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string path, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        var response = await SendAsync(request);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        if (FormTokenField().Match(body) is { Success: true } match)
        {
            FormToken = WebUtility.HtmlDecode(match.Groups[1].Value);
        }

        return (response.StatusCode, body, response);
    }

    /// <summary>Posts a form; <paramref name="formToken"/> overrides the token of the last page read (null leaves it out).</summary>
    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(
        string path, IReadOnlyDictionary<string, string> fields, bool withFormToken = true, string? formToken = null, string? bearer = null)
    {
        var all = new Dictionary<string, string>(fields);
        if (withFormToken)
        {
            all["__RequestVerificationToken"] = formToken ?? FormToken ?? throw new InvalidOperationException("No page with a form was read first.");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(all) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        var response = await SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Cancel), response);
    }

    /// <summary>Signs in through the page; the answer (a redirect to the dashboard when it worked).</summary>
    public async Task<HttpResponseMessage> TrySignInAsync(string email, string password, string code)
    {
        await GetAsync($"{Path}/sign-in");
        var (_, _, response) = await PostAsync($"{Path}/sign-in", new Dictionary<string, string> { ["Email"] = email, ["Password"] = password, ["Code"] = code });
        return response;
    }

    public async Task SignInAsync(string email, string password, string code)
    {
        var response = await TrySignInAsync(email, password, code);
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, $"sign-in of {email} refused");
        response.Headers.Location!.OriginalString.ShouldBe(Path);
    }

    public void Dispose() => http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex FormTokenField();
}
