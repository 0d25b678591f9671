using System.ClientModel;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Health;
using Apptork.Root.Platform.Persistence;
using Hangfire;
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
using Npgsql;
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
    private const int Clients = 32;

    private static async Task<int> Main(string[] args)
    {
        if (args is [var connectionString, "--streaming", .. var streaming] && streaming.Length <= 2)
        {
            return await StreamingBenchmark.RunAsync(
                connectionString,
                streaming.Length > 0 ? int.Parse(streaming[0], CultureInfo.InvariantCulture) : 200,
                streaming.Length > 1 ? int.Parse(streaming[1], CultureInfo.InvariantCulture) : 1000);
        }

        if (args is [var pricedConnectionString, "--holds", .. var holds] && holds.Length <= 1)
        {
            return await HoldsBenchmark.RunAsync(pricedConnectionString, holds.Length > 0 ? int.Parse(holds[0], CultureInfo.InvariantCulture) : 2000);
        }

        if (args.Length is < 1 or > 3)
        {
            await Console.Error.WriteLineAsync(
                "usage: Generations <PostgreSQL connection string> [latency samples = 200] [throughput jobs = 1000]\n"
                + "       Generations <PostgreSQL connection string> --streaming [first-token samples = 200] [open streams = 1000]\n"
                + "       Generations <PostgreSQL connection string> --holds [creations per round = 2000]");
            return 64;
        }

        var samples = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var jobs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1000;
        await using var provider = await NoOpProvider.StartAsync();
        var chat = new OpenAIClient(new ApiKeyCredential("sk-bench"), new OpenAIClientOptions { Endpoint = new Uri(provider.Endpoint) })
            .GetChatClient("bench").AsIChatClient();

        List<double> ours;
        await using (var all = GenerationHost.Start(args[0], provider.Endpoint, "all"))
        {
            using var http = await SignedInClientAsync(all, credits: samples + 20);
            // Warm-up: JIT, pools, Hangfire's first fetches.
            for (var index = 0; index < 20; index++)
            {
                await GenerateAndWaitAsync(http, $"warm-up {index}");
                await CallProviderAsync(chat, "warm-up");
            }

            ours = [];
            for (var index = 0; index < samples; index++)
            {
                ours.Add((await GenerateAndWaitAsync(http, $"latency {index}")).TotalMilliseconds);
            }
        }

        var direct = new List<double>();
        for (var index = 0; index < samples; index++)
        {
            var call = Stopwatch.StartNew();
            await CallProviderAsync(chat, $"latency {index}");
            direct.Add(call.Elapsed.TotalMilliseconds);
        }

        // The queue is filled through an api process, as many clients at once as wrk uses elsewhere, then drained by a
        // worker process started afterwards: the workers' throughput, apart from the API's. Then the latency again, with
        // the api and the worker apart as in production, where the worker learns of a job by polling the storage.
        List<double> apart = [];
        double createdPerSecond, jobsPerSecond, noOpJobsPerSecond;
        await using (var api = GenerationHost.Start(args[0], provider.Endpoint, "api"))
        {
            using var http = await SignedInClientAsync(api, credits: jobs + samples);
            var creating = Stopwatch.StartNew();
            var created = new ConcurrentBag<Guid>();
            await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = Clients },
                async (index, _) => created.Add(await CreateAsync(http, $"throughput {index}")));
            createdPerSecond = jobs / creating.Elapsed.TotalSeconds;

            // With Redis, as in production, the api only commits and announces: the worker enqueues the owed jobs itself
            // (its dispatcher) and runs them. From the first job done to the last, so the worker process's start is not counted.
            await using (ProductProcess.Start(args[0], provider.Endpoint, "worker"))
            {
                var completed = await WaitForAllAsync(api.Services, [.. created]);
                jobsPerSecond = (jobs - 1) / (completed.Last - completed.First).TotalSeconds;
            }

            // Hangfire's own cost per job, with no work in it: the worker's health ping, which does nothing.
            var pings = EnqueuePings(api.Services, jobs);
            await using (var worker = ProductProcess.Start(args[0], provider.Endpoint, "worker"))
            {
                var succeeded = await WaitForSucceededAsync(args[0], pings);
                noOpJobsPerSecond = (jobs - 1) / (succeeded.Last - succeeded.First).TotalSeconds;

                for (var index = 0; index < samples; index++)
                {
                    apart.Add((await GenerateAndWaitAsync(http, $"apart {index}")).TotalMilliseconds);
                }
            }
        }

        var calls = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = Workers },
            async (index, cancellationToken) => await CallProviderAsync(chat, $"throughput {index}", cancellationToken));
        var callsPerSecond = jobs / calls.Elapsed.TotalSeconds;

        Console.WriteLine($"text generations against a no-op OpenAI-compatible provider, {Workers} job workers, on PostgreSQL");
        Console.WriteLine($"{"",-58} {"p50 ms",8} {"p95 ms",8}");
        Console.WriteLine($"{"request to succeeded, one at a time, one process",-58} {Percentile(ours, 50),8:F1} {Percentile(ours, 95),8:F1}");
        Console.WriteLine($"{"request to succeeded, one at a time, api and worker apart",-58} {Percentile(apart, 50),8:F1} {Percentile(apart, 95),8:F1}");
        Console.WriteLine($"{"the provider call alone (baseline)",-58} {Percentile(direct, 50),8:F1} {Percentile(direct, 95),8:F1}");
        Console.WriteLine($"{$"generations created by an api process, {Clients} clients",-58} {createdPerSecond,8:F0} /s");
        Console.WriteLine($"{$"{jobs} queued jobs run by a worker process",-58} {jobsPerSecond,8:F0} jobs/s");
        Console.WriteLine($"{$"the provider calls alone, {Workers} at once (baseline)",-58} {callsPerSecond,8:F0} calls/s");
        Console.WriteLine($"{$"{jobs} queued no-op jobs (the health ping) run by a worker",-58} {noOpJobsPerSecond,8:F0} jobs/s");
        Console.WriteLine($"ratio jobs/s to calls/s: {jobsPerSecond / callsPerSecond:F2}");
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_create_per_s={createdPerSecond:F0}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_succeeded_p50_ms={Percentile(apart, 50):F1}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_succeeded_p95_ms={Percentile(apart, 95):F1}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_succeeded_one_process_p95_ms={Percentile(ours, 95):F1}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT worker_jobs_per_s={jobsPerSecond:F0}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT worker_noop_jobs_per_s={noOpJobsPerSecond:F0}"));
        return 0;
    }

    /// <summary>The provider call as the worker makes it: a streamed answer, read to its end.</summary>
    private static async Task CallProviderAsync(IChatClient chat, string prompt, CancellationToken cancellationToken = default)
    {
        await foreach (var _ in chat.GetStreamingResponseAsync(prompt, cancellationToken: cancellationToken))
        {
        }
    }

    internal static async Task<HttpClient> SignedInClientAsync(GenerationHost host, long credits)
    {
        var http = new HttpClient { BaseAddress = host.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SeedAsync(host.Services, credits));
        return http;
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

    internal static async Task<Guid> CreateAsync(HttpClient http, string prompt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/generations") { Content = JsonContent.Create(new { type = "text", prompt }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<View>())!.Id;
    }

    /// <summary>When the first and the last of the generations succeeded.</summary>
    private static async Task<(DateTimeOffset First, DateTimeOffset Last)> WaitForAllAsync(IServiceProvider services, Guid[] ids)
    {
        while (true)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            var batch = db.Generations.Where(generation => ids.Contains(generation.Id));
            if (await batch.AnyAsync(generation => generation.Status == GenerationStatus.Failed))
            {
                throw new InvalidOperationException("A generation failed during the throughput run.");
            }

            if (!await batch.AnyAsync(generation => generation.Status != GenerationStatus.Succeeded))
            {
                var times = await batch.Select(generation => generation.CompletedAt!.Value).ToListAsync();
                return (times.Min(), times.Max());
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Health pings enqueued through the api's Hangfire client, four at once as the dispatcher's callers might; their job ids.</summary>
    private static long[] EnqueuePings(IServiceProvider services, int count)
    {
        var client = services.GetRequiredService<IBackgroundJobClient>();
        var ids = new ConcurrentBag<long>();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            _ => ids.Add(long.Parse(client.Enqueue<HealthPingJob>(ping => ping.RunAsync()), CultureInfo.InvariantCulture)));
        return [.. ids];
    }

    /// <summary>When the first and the last of the jobs entered Hangfire's Succeeded state, read from its storage.</summary>
    private static async Task<(DateTime First, DateTime Last)> WaitForSucceededAsync(string connectionString, long[] jobIds)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*), min(createdat), max(createdat) FROM hangfire.state WHERE name = 'Succeeded' AND jobid = ANY(@ids)", connection);
            command.Parameters.AddWithValue("ids", jobIds);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) == jobIds.Length)
            {
                return (reader.GetDateTime(1), reader.GetDateTime(2));
            }

            await reader.DisposeAsync();
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

    internal static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private sealed record View(Guid Id, string Status);
}

/// <summary>The product in its production shape, as a process of the given role.</summary>
/// <param name="overrides">Settings on top of the production shape's, e.g. a pricing mode.</param>
internal sealed class GenerationHost(string connectionString, string aiEndpoint, string role, IReadOnlyDictionary<string, string>? overrides = null)
    : WebApplicationFactory<Program>
{
    public Uri Address => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public static GenerationHost Start(string connectionString, string aiEndpoint, string role, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var host = new GenerationHost(connectionString, aiEndpoint, role, overrides);
        host.UseKestrel(0);
        host.StartServer();
        return host;
    }

    /// <summary>The production shape's settings for a process of <paramref name="role"/>, on the bench's database and provider.</summary>
    /// <summary>One run's secrets, the same in every process: a token one issues, another accepts.</summary>
    private static readonly string Secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));

    private static readonly string SigningKey = ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportECPrivateKeyPem();

    public static Dictionary<string, string> Settings(string connectionString, string aiEndpoint, string role)
    {
        return new Dictionary<string, string>
        {
            ["Role"] = role,
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
            // The production shape's Redis (bench/generations.sh starts one): the api processes announce owed jobs through it.
            ["ConnectionStrings:Redis"] = Environment.GetEnvironmentVariable("BENCH_REDIS") ?? throw new InvalidOperationException("BENCH_REDIS (host:port) is not set."),
            ["Auth:Secret"] = Secret,
            ["Auth:Jwt:SigningKeys:0"] = SigningKey,
            ["Auth:Jwt:AccessTokenMinutes"] = "60",
            ["Email:Provider"] = "Smtp",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:UseTls"] = "false",
            // The production shape requires a storage choice; every process of the bench runs on this one host.
            ["Storage:Provider"] = "Local",
            // Required in production; no link the benchmark follows is built from it.
            ["Http:PublicBaseUrl"] = "http://127.0.0.1",
            // The production shape requires the health page's secret path.
            ["Health:Path"] = $"/health-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}",
            ["Ai:Provider"] = "OpenAI",
            ["Ai:Endpoint"] = aiEndpoint,
            ["Ai:ApiKey"] = "sk-bench",
            ["Jobs:WorkerCount"] = "10",
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Throttling:Rates:ai_generation:free"] = "unlimited",
            ["Logging:LogLevel:Default"] = "Warning",
            // How often idle workers poll the queue, to compare intervals in one sitting (the product's default otherwise).
            ["Jobs:QueuePollMilliseconds"] = Environment.GetEnvironmentVariable("BENCH_QUEUE_POLL_MS") ?? new Apptork.Root.Platform.Jobs.JobsOptions().QueuePollMilliseconds.ToString(CultureInfo.InvariantCulture),
        };
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environments.Production);
        foreach (var (key, value) in Settings(connectionString, aiEndpoint, role).Concat(overrides ?? new Dictionary<string, string>()))
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>
/// A process of the product as production runs it, of its own (the product's binary, beside the bench's): a worker in one
/// process with the api would be woken by Hangfire's in-process signal, and the latency would not be production's.
/// </summary>
internal sealed class ProductProcess : IAsyncDisposable
{
    private readonly Process process;

    private ProductProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The process's resident memory now, from /proc.</summary>
    public long ResidentBytes => long.Parse(
        File.ReadLines($"/proc/{process.Id}/status").Single(line => line.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
        CultureInfo.InvariantCulture) * 1024;

    public static ProductProcess Start(string connectionString, string aiEndpoint, string role)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Apptork.Root")) { UseShellExecute = false };
        foreach (var (key, value) in GenerationHost.Settings(connectionString, aiEndpoint, role))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Urls"] = address.ToString();
        return new ProductProcess(Process.Start(start)!, address);
    }

    /// <summary>Until the process answers its liveness check.</summary>
    public async Task WaitUntilLiveAsync()
    {
        using var http = new HttpClient { BaseAddress = Address };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/healthz/live");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
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
        // Streamed (as the worker asks) or whole, as the request says; either way at once.
        app.MapPost("/v1/chat/completions", async (HttpRequest request) =>
            (await new StreamReader(request.Body).ReadToEndAsync()).Contains("\"stream\":true", StringComparison.Ordinal)
                ? Results.Text(
                    """
                    data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}

                    data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

                    data: [DONE]


                    """,
                    "text/event-stream")
                : Results.Text(
                    """{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"bench","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""",
                    "application/json"));
        await app.StartAsync();
        return new NoOpProvider(app);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
