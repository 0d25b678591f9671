using System.Net;
using System.Text;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Errors;

/// <summary>
/// Walks every route the application maps and sends each one the requests clients get wrong (another method,
/// no credentials, a broken body, a wrong content type, a bad id): each is the client's mistake, so each must be
/// answered with a 4xx, never a 5xx, and in the standard payload.
/// </summary>
public sealed class EndpointWalkTests(PostgresServer postgres)
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Every_route_answers_wrong_anonymous_requests_with_a_client_error_in_the_standard_shape(DatabaseShape shape)
    {
        // Hundreds of anonymous requests from one address: unthrottled, so each route answers for itself (429s: ThrottlingTests).
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, new Dictionary<string, string?>
        {
            ["Throttling:Rates:anon:anonymous"] = "unlimited",
            ["Throttling:Rates:otp:anonymous"] = "unlimited",
        });
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(endpoint => Concrete(endpoint.RoutePattern.RawText!))
            .Distinct()
            .ToList();
        routes.ShouldContain("/healthz/ready");
        routes.AddRange(["/api/v1/unknown", "/api/v1/users/00000000-0000-0000-0000-000000000000", "/nothing-here"]);

        var client = app.Client("fr");
        var checkedErrors = 0;
        var serverErrors = new List<string>();
        foreach (var route in routes)
        {
            foreach (var method in Methods)
            {
                foreach (var request in Variants(method, route))
                {
                    using (request)
                    using (var response = await client.SendAsync(request, TestContext.Current.CancellationToken))
                    {
                        if ((int)response.StatusCode >= 500)
                        {
                            serverErrors.Add($"{method} {route} ({request.Content?.Headers.ContentType?.MediaType ?? "no body"}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
                        }

                        if ((int)response.StatusCode >= 400)
                        {
                            await ErrorAssert.ReadAsync(response);
                            response.Content.Headers.ContentLanguage.ShouldBe(["fr"]);
                            checkedErrors++;
                        }
                    }
                }
            }
        }

        serverErrors.ShouldBeEmpty();
        checkedErrors.ShouldBeGreaterThan(routes.Count);
    }

    private static IEnumerable<HttpRequestMessage> Variants(string method, string route)
    {
        yield return new HttpRequestMessage(new HttpMethod(method), route);
        if (method is "GET" or "DELETE")
        {
            yield break;
        }

        yield return new HttpRequestMessage(new HttpMethod(method), route) { Content = new StringContent("{\"broken\": ", Encoding.UTF8, "application/json") };
        yield return new HttpRequestMessage(new HttpMethod(method), route) { Content = new StringContent("<xml/>", Encoding.UTF8, "application/xml") };
        yield return new HttpRequestMessage(new HttpMethod(method), route) { Content = new StringContent("[1, 2, 3]", Encoding.UTF8, "application/json") };
    }

    /// <summary>Fills route parameters with values no resource has: a well-formed id that does not exist.</summary>
    private static string Concrete(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{[^}]+\}", "00000000-0000-0000-0000-000000000000");
}
