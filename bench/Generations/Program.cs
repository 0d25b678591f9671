using System.ClientModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace Generations;

/// <summary>
/// A text generation's latency, from the request that creates it to its <c>succeeded</c> state, one at a time; and the
/// workers' throughput with many queued. The provider is a local OpenAI-compatible server that answers at once (a
/// no-op provider), so what is measured is our path: the API, the charge, Hangfire, the job and the OpenAI client.
/// The baseline is the same chat call made directly through the same client, one at a time and with as many at once
/// as there are workers.
/// </summary>
internal static class GenerationsBenchmark
{
    private const int Workers = 10;

    private static async Task<int> Main(string[] args)
    {
        if (args.Length is < 1 or > 3)
        {
            await Console.Error.WriteLineAsync("usage: Generations <PostgreSQL connection string> [latency samples = 200] [throughput jobs = 1000]");
            return 64;
        }

        var samples = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var jobs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1000;
        await using var provider = await NoOpProvider.StartAsync();
        await using var host = GenerationHost.Start(args[0], provider.Endpoint);
        var token = await SeedAsync(host.Services, credits: 10L * (samples + jobs));
        using var http = new HttpClient { BaseAddress = host.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var chat = new OpenAIClient(new ApiKeyCredential("sk-bench"), new OpenAIClientOptions { Endpoint = new Uri(provider.Endpoint) })
            .GetChatClient("bench").AsIChatClient();

        // Warm-up: JIT, pools, Hangfire's first fetches.
        for (var index = 0; index < 20; index++)
        {
            await GenerateAndWaitAsync(http, $"warm-up {index}");
            await chat.GetResponseAsync("warm-up");
        }

        var ours = new List<double>();
        for (var index = 0; index < samples; index++)
        {
            ours.Add((await GenerateAndWaitAsync(http, $"latency {index}")).TotalMilliseconds);
        }

        var direct = new List<double>();
        for (var index = 0; index < samples; index++)
        {
            var call = Stopwatch.StartNew();
            await chat.GetResponseAsync($"latency {index}");
            direct.Add(call.Elapsed.TotalMilliseconds);
        }

        var queued = Stopwatch.StartNew();
        var ids = await Task.WhenAll(Enumerable.Range(0, jobs).Select(index => CreateAsync(http, $"throughput {index}")));
        await WaitForAllAsync(host.Services, ids);
        var jobsPerSecond = jobs / queued.Elapsed.TotalSeconds;

        var calls = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = Workers },
            async (index, cancellationToken) => await chat.GetResponseAsync($"throughput {index}", cancellationToken: cancellationToken));
        var callsPerSecond = jobs / calls.Elapsed.TotalSeconds;

        Console.WriteLine($"text generations against a no-op OpenAI-compatible provider, {Workers} job workers, one process (api + worker) on PostgreSQL");
        Console.WriteLine($"{"",-52} {"p50 ms",8} {"p95 ms",8}");
        Console.WriteLine($"{"request to succeeded, one at a time",-52} {Percentile(ours, 50),8:F1} {Percentile(ours, 95),8:F1}");
        Console.WriteLine($"{"the provider call alone (baseline)",-52} {Percentile(direct, 50),8:F1} {Percentile(direct, 95),8:F1}");
        Console.WriteLine($"{$"throughput, {jobs} queued at once",-52} {jobsPerSecond,8:F0} jobs/s");
        Console.WriteLine($"{$"the provider calls alone, {Workers} at once (baseline)",-52} {callsPerSecond,8:F0} calls/s");
        Console.WriteLine($"ratio jobs/s to calls/s: {jobsPerSecond / callsPerSecond:F2}");
        return 0;
    }

    private static async Task<TimeSpan> GenerateAndWaitAsync(HttpClient http, string prompt)
    {
        var clock = Stopwatch.StartNew();
        var id = await CreateAsync(http, prompt);
        while (true)
        {
            var status = (await http.GetFromJsonAsync<View>($"/api/v1/generations/{id}"))!.Status;
            if (status == "succeeded")
            {
                return clock.Elapsed;
            }

            if (status == "failed")
            {
                throw new InvalidOperationException($"Generation {id} failed.");
            }

            await Task.Delay(1);
        }
    }

    private static async Task<long> CreateAsync(HttpClient http, string prompt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/generations") { Content = JsonContent.Create(new { type = "text", prompt }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<View>())!.Id;
    }

    private static async Task WaitForAllAsync(IServiceProvider services, long[] ids)
    {
        var first = ids.Min();
        while (true)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            var open = await db.Generations.CountAsync(generation => generation.Id >= first && generation.Status != GenerationStatus.Succeeded);
            if (open == 0)
            {
                return;
            }

            if (await db.Generations.AnyAsync(generation => generation.Id >= first && generation.Status == GenerationStatus.Failed))
            {
                throw new InvalidOperationException("A generation failed during the throughput run.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A user whose wallet covers every generation of the run, credited through the ledger, and a token for it.</summary>
    private static async Task<string> SeedAsync(IServiceProvider services, long credits)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var user = new User { Id = Guid.CreateVersion7(), EmailConfirmed = true, CreatedAt = DateTimeOffset.UtcNow };
        user.UserName = user.Id.ToString("N");
        db.Users.Add(user);
        await db.SaveChangesAsync();
        await scope.ServiceProvider.GetRequiredService<Ledger>().PostAsync(user.Id, credits, LedgerEntryKind.Adjustment, "bench", null, "bench", null, CancellationToken.None);
        return scope.ServiceProvider.GetRequiredService<AccessTokens>().Issue(user, Guid.NewGuid());
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private sealed record View(long Id, string Status);
}

/// <summary>The product in its production shape as one process running the API and the job workers.</summary>
internal sealed class GenerationHost(string connectionString, string aiEndpoint) : WebApplicationFactory<Program>
{
    public Uri Address => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public static GenerationHost Start(string connectionString, string aiEndpoint)
    {
        var host = new GenerationHost(connectionString, aiEndpoint);
        host.UseKestrel(0);
        host.StartServer();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environments.Production);
        using var signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var settings = new Dictionary<string, string>
        {
            ["Role"] = "all",
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Auth:Secret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            ["Auth:Jwt:SigningKeys:0"] = signingKey.ExportECPrivateKeyPem(),
            ["Auth:Jwt:AccessTokenMinutes"] = "60",
            ["Email:Provider"] = "Smtp",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:UseTls"] = "false",
            ["Ai:Provider"] = "OpenAI",
            ["Ai:Endpoint"] = aiEndpoint,
            ["Ai:ApiKey"] = "sk-bench",
            ["Jobs:WorkerCount"] = "10",
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Throttling:Rates:ai_generation:free"] = "unlimited",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>An OpenAI-compatible chat endpoint that answers at once: the provider costs nothing, so the path around it shows.</summary>
internal sealed class NoOpProvider : IAsyncDisposable
{
    private readonly WebApplication app;

    private NoOpProvider(WebApplication app) => this.app = app;

    public string Endpoint => $"{app.Urls.Single()}/v1";

    public static async Task<NoOpProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", () => Results.Text(
            """{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"bench","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""",
            "application/json"));
        await app.StartAsync();
        return new NoOpProvider(app);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
