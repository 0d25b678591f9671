using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Hosting;

/// <summary>
/// An <c>api</c> process (the real binary) stopped with SIGTERM while a request waits on Stripe: it says it is not ready
/// but keeps serving for the drain, then refuses new connections, answers the request under way as it would have, says
/// so, and exits 0.
/// </summary>
public sealed class GracefulShutdownTests(PostgresServer postgres, SmtpServer smtp)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000), Long]
    public async Task An_api_process_stopped_mid_request_drains_then_answers_it_refuses_new_connections_and_exits_0()
    {
        await using var stripe = await LocalStripe.StartAsync();
        var settings = new Dictionary<string, string?>(stripe.Settings)
        {
            ["Role"] = "api",
            ["Shutdown:DrainSeconds"] = "2",
            ["Shutdown:TimeoutSeconds"] = "30",
        };
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "graceful_api");
        string token;
        await using (var setUp = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, settings))
        {
            token = (await new AuthClient(setUp).SignInAsync("drained@example.com")).AccessToken;
        }

        var url = RootProcess.FreeLoopbackUrl();
        var port = new Uri(url).Port;
        await using var api = RootProcess.Start(["--Urls", url], RootProcess.ProductionEnvironment(connectionString, smtp, settings), RootProcess.ScratchDirectory("apptork-graceful-"));
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        await WaitUntilAsync(api, async () => await StatusAsync(http, "/healthz/ready") == HttpStatusCode.OK, "ready");

        // A checkout whose call to Stripe is held: a request under way when the signal comes.
        stripe.HeldSessions = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var checkout = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout/sessions") { Content = JsonContent.Create(new { pack_id = "starter" }) };
        checkout.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        checkout.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var underWay = http.SendAsync(checkout, Cancel);
        await WaitUntilAsync(api, () => Task.FromResult(stripe.Requests.Any(request => request.Path == "/v1/checkout/sessions")), "the checkout reached Stripe");

        api.SendTerminate();

        // The drain: not ready, still serving, on new connections too.
        await WaitUntilAsync(api, async () => await StatusAsync(http, "/healthz/ready") == HttpStatusCode.ServiceUnavailable, "readiness answered 503");
        using (var fresh = new HttpClient { BaseAddress = new Uri(url) })
        {
            (await StatusAsync(fresh, "/healthz/live")).ShouldBe(HttpStatusCode.OK, "the process serves new connections while it drains");
        }

        // After it: no new connection, while the request under way still waits on Stripe.
        await WaitUntilAsync(api, () => Task.FromResult(!Accepts(port)), "new connections were refused");
        underWay.IsCompleted.ShouldBeFalse();
        api.HasExited.ShouldBeFalse("the process must wait for the request under way");

        stripe.HeldSessions.SetResult();
        using var answer = await underWay;
        answer.StatusCode.ShouldBe(HttpStatusCode.Created, await answer.Content.ReadAsStringAsync(Cancel));
        (await answer.Content.ReadFromJsonAsync<CheckoutClient.Session>(TestJson.Options, Cancel))!.CheckoutUrl.ShouldStartWith("https://checkout.stripe.com/");

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var exit = await api.WaitForExitAsync(deadline.Token);
        exit.ExitCode.ShouldBe(0, exit.Output);
        exit.Output.ShouldContain("Drained: every request accepted was answered", customMessage: exit.Output);
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path, Cancel);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var socket = new TcpClient();
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(RootProcess.Running process, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            process.HasExited.ShouldBeFalse($"The process exited before {what}:\n{process.Output}");
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"Never {what}:\n{process.Output}");
            await Task.Delay(50, Cancel);
        }
    }
}
