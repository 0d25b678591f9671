using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Generation;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Observability;

/// <summary>
/// The application's meters are process-wide, as the framework's are: the tests that count them run alone, so no other
/// test's host adds to the counts they read.
/// </summary>
[CollectionDefinition(nameof(TelemetryAlone), DisableParallelization = true)]
public sealed class TelemetryAlone;

[Collection(nameof(TelemetryAlone))]
public sealed class TelemetryTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_its_postgres_queries_and_the_job_it_enqueues_reach_an_otlp_collector_as_linked_traces_beside_the_metrics()
    {
        await using var receiver = OtlpReceiver.Start();
        await using var ai = await LocalOpenAi.StartAsync();
        var settings = new Dictionary<string, string?>(ai.Settings)
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            // The standard variables, given as settings: the exporter reads them from the configuration.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        };
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, settings);
        var signedIn = await new AuthClient(app).SignInAsync("traced@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 6, "purchase", LedgerEntryKind.Purchase);

        // The caller's own trace context, so this request's spans are told apart from every other's by their trace id.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpanId = ActivitySpanId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/generations") { Content = JsonContent.Create(new { type = "text", prompt = "trace me" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signedIn.AccessToken);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpanId}-01");
        // Sent by a client that propagates nothing of its own: in this process the application's tracer also instruments
        // the test's HttpClient, whose unsampled span would otherwise become the request's parent and have it dropped.
        using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = app.Client().BaseAddress };
        using var response = await http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancel));
        var created = (await response.Content.ReadFromJsonAsync<GenerationClient.View>(TestJson.Options, Cancel))!;
        (await new GenerationClient(app, signedIn.AccessToken).WaitAsync(created.Id, "succeeded")).ResultText.ShouldBe("Local answer to: trace me");

        // One trace: the server span, a child of the caller's, and PostgreSQL's spans under it.
        var server = await EventuallyAsync(app, receiver, () => receiver.Spans.SingleOrDefault(span => span.TraceId == traceId && span.Kind == ExportedSpanKind.Server));
        server.ParentSpanId.ShouldBe(callerSpanId);
        // Named and described as the semantic conventions give an HTTP server span.
        server.Name.ShouldBe("POST /api/v1/generations/");
        server.Attributes["http.route"].ShouldBe("/api/v1/generations/");
        server.Attributes["http.request.method"].ShouldBe("POST");
        server.Attributes["http.response.status_code"].ShouldBe(202L);
        server.Resource["service.name"].ShouldBe("apptork-root");
        server.Resource["apptork.role"].ShouldBe("all");
        server.Resource["service.version"].ShouldNotBeNull();
        var queries = await EventuallyAsync(app, receiver, () =>
        {
            var found = receiver.Spans.Where(span => span.TraceId == traceId && IsPostgres(span)).ToList();
            // The generation's insert, its charge, and the job's rows in Hangfire's tables.
            return found.Count >= 3 ? found : null;
        });
        var byId = receiver.Spans.Where(span => span.TraceId == traceId).ToDictionary(span => span.SpanId);
        queries.ShouldAllBe(query => query.Kind == ExportedSpanKind.Client && Ancestors(query, byId).Contains(server.SpanId));

        // The job's run: a trace of its own, linked to the request's span that enqueued it.
        var job = await EventuallyAsync(app, receiver, () => receiver.Spans.FirstOrDefault(span => span.Kind == ExportedSpanKind.Consumer && span.Links.Contains((traceId, server.SpanId))));
        job.TraceId.ShouldNotBe(traceId);
        job.ParentSpanId.ShouldBeEmpty();
        job.Name.ShouldBe("process GenerationJob.RunAsync");
        job.Attributes["messaging.system"].ShouldBe("hangfire");
        job.Attributes["messaging.operation.type"].ShouldBe("process");
        job.Attributes["apptork.job.name"].ShouldBe("GenerationJob.RunAsync");
        job.Attributes["apptork.job.attempt"].ShouldBe(1L);
        job.Attributes["messaging.message.id"].ShouldNotBeNull();
        job.StatusCode.ShouldBe(0);
        // Its own work under it: the AI provider's HTTP call and its queries.
        await EventuallyAsync(app, receiver, () => receiver.Spans.FirstOrDefault(span =>
            span.TraceId == job.TraceId && span.ParentSpanId == job.SpanId && span.Kind == ExportedSpanKind.Client
            && span.Attributes.GetValueOrDefault("url.full") is string url && url.StartsWith(ai.Endpoint, StringComparison.Ordinal)));
        await EventuallyAsync(app, receiver, () => receiver.Spans.FirstOrDefault(span => span.TraceId == job.TraceId && span.ParentSpanId == job.SpanId && IsPostgres(span)));

        // The metrics of the same work, with their totals (cumulative: the latest export of a series is its total).
        await MetricShouldReachAsync(app, receiver, "apptork.otp.sent", 1, ("purpose", "sign_in"));
        await MetricShouldReachAsync(app, receiver, "apptork.otp.verified", 1);
        await MetricShouldReachAsync(app, receiver, "apptork.wallet.credits", 6, ("kind", "purchase"), ("direction", "credit"));
        await MetricShouldReachAsync(app, receiver, "apptork.wallet.credits", 1, ("kind", "generation"), ("direction", "debit"));
        await MetricShouldReachAsync(app, receiver, "apptork.generation.transitions", 1, ("status", "queued"));
        await MetricShouldReachAsync(app, receiver, "apptork.generation.transitions", 1, ("status", "running"));
        await MetricShouldReachAsync(app, receiver, "apptork.generation.transitions", 1, ("status", "succeeded"));
        await MetricShouldReachAsync(app, receiver, "apptork.job.duration", 1, ("job", "GenerationJob.RunAsync"), ("outcome", "succeeded"));
        await MetricShouldReachAsync(app, receiver, "http.server.request.duration", 1, ("http.route", "/api/v1/generations/"), ("http.request.method", "POST"));
        receiver.Points.ShouldNotContain(point => point.Metric == "apptork.job.failures");
        // ASP.NET Core's meters that record on every request for little an operator reads are not subscribed to.
        receiver.Points.Select(point => point.Metric).Distinct()
            .Where(metric => metric.StartsWith("aspnetcore.routing.", StringComparison.Ordinal) || metric.StartsWith("aspnetcore.authentication.", StringComparison.Ordinal)
                || metric.StartsWith("aspnetcore.authorization.", StringComparison.Ordinal) || metric.StartsWith("aspnetcore.memory_pool.", StringComparison.Ordinal))
            .ShouldBeEmpty();

        // Npgsql's connection pools, this host's two told apart by name: the application's (Npgsql's default size) and
        // the job storage's, under its own application name and sized from the workers (2 here) and 10 more.
        var database = new Npgsql.NpgsqlConnectionStringBuilder(app.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")).Database!;
        var applicationPool = await EventuallyAsync(app, receiver, () => PoolName(receiver, database, jobs: false));
        var jobsPool = await EventuallyAsync(app, receiver, () => PoolName(receiver, database, jobs: true));
        await MetricShouldReachAsync(app, receiver, "db.client.connection.max", 100, ("db.client.connection.pool.name", applicationPool));
        await MetricShouldReachAsync(app, receiver, "db.client.connection.max", 12, ("db.client.connection.pool.name", jobsPool));
        foreach (var pool in new[] { applicationPool, jobsPool })
        {
            receiver.Points.ShouldContain(point => point.Metric == "db.client.connection.count"
                && Equals(point.Attributes.GetValueOrDefault("db.client.connection.pool.name"), pool)
                && (Equals(point.Attributes.GetValueOrDefault("db.client.connection.state"), "idle") || Equals(point.Attributes.GetValueOrDefault("db.client.connection.state"), "used")));
        }
        receiver.Points.First(point => point.Metric == "apptork.otp.sent").Resource["service.name"].ShouldBe("apptork-root");
    }

    [Theory]
    [InlineData(null, false, false)]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true, false)]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", false, true)]
    public async Task Telemetry_is_off_unless_an_otlp_endpoint_is_set_and_on_only_for_the_signals_it_is_set_for(string? endpointKey, bool traces, bool metrics)
    {
        var settings = new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "named-but-not-exported" };
        if (endpointKey is not null)
        {
            // Nothing listens there: only what is registered matters.
            settings[endpointKey] = "http://127.0.0.1:9/v1/any";
        }

        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, settings);
        using (var answer = await app.Client().GetAsync("/healthz/live", Cancel))
        {
            answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (app.Services.GetService<TracerProvider>() is not null).ShouldBe(traces);
        (app.Services.GetService<MeterProvider>() is not null).ShouldBe(metrics);
    }

    [Fact]
    public async Task Json_console_logs_carry_the_trace_id_and_the_correlation_id_of_their_request()
    {
        var url = RootProcess.FreeLoopbackUrl();
        await using var process = RootProcess.Start([], new Dictionary<string, string>
        {
            ["Urls"] = url,
            ["Logging__Console__FormatterName"] = "json",
            // The endpoint middleware's "Executing endpoint" line: one written inside the request.
            ["Logging__LogLevel__Microsoft.AspNetCore.Routing.EndpointMiddleware"] = "Information",
        }, RootProcess.ScratchDirectory("apptork-json-logs-"));
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri(url) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await AnswersAsync(client, "/healthz/live"))
        {
            process.HasExited.ShouldBeFalse(process.Output);
            DateTime.UtcNow.ShouldBeLessThan(deadline, process.Output);
            await Task.Delay(100, Cancel);
        }

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var correlationId = $"json-logs-{Guid.NewGuid():N}";
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/healthz/live"))
        {
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            request.Headers.Add("X-Correlation-Id", correlationId);
            using var response = await client.SendAsync(request, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        JsonElement? line = null;
        while (line is null)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, process.Output);
            await Task.Delay(100, Cancel);
            line = process.Output.Split('\n').Where(text => text.StartsWith('{') && text.Contains(correlationId, StringComparison.Ordinal))
                .Select(text => (JsonElement?)JsonDocument.Parse(text).RootElement).FirstOrDefault();
        }

        var scopes = line.Value.GetProperty("Scopes").EnumerateArray().ToList();
        scopes.Select(scope => ScopeValue(scope, "CorrelationId")).ShouldContain(correlationId, process.Output);
        scopes.Select(scope => ScopeValue(scope, "TraceId")).ShouldContain(traceId, process.Output);
        scopes.Select(scope => ScopeValue(scope, "SpanId")).ShouldContain(id => id != null && id.Length == 16);
        line.Value.GetProperty("Timestamp").GetString().ShouldNotBeNullOrEmpty();
    }

    private static string? ScopeValue(JsonElement scope, string name) => scope.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static async Task<bool> AnswersAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path, Cancel);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The name of a pool of this test's database that the metrics report: the job storage's, or the application's.</summary>
    private static string? PoolName(OtlpReceiver receiver, string database, bool jobs) =>
        receiver.Points.Where(point => point.Metric == "db.client.connection.max")
            .Select(point => point.Attributes.GetValueOrDefault("db.client.connection.pool.name") as string)
            .FirstOrDefault(name => name is not null && name.Contains(database, StringComparison.Ordinal)
                && name.Contains(JobsSetup.JobsApplicationName, StringComparison.Ordinal) == jobs);

    private static bool IsPostgres(ExportedSpan span) =>
        "postgresql".Equals(span.Attributes.GetValueOrDefault("db.system.name") ?? span.Attributes.GetValueOrDefault("db.system"));

    private static IEnumerable<string> Ancestors(ExportedSpan span, Dictionary<string, ExportedSpan> byId)
    {
        for (var parent = span.ParentSpanId; parent.Length > 0; parent = byId.TryGetValue(parent, out var next) ? next.ParentSpanId : string.Empty)
        {
            yield return parent;
        }
    }

    private static async Task MetricShouldReachAsync(RootApp app, OtlpReceiver receiver, string metric, double total, params (string Key, object? Value)[] attributes)
    {
        try
        {
            await EventuallyAsync(app, receiver, () => receiver.Latest(metric, attributes) == total ? (object)total : null);
        }
        catch (ShouldAssertException)
        {
            var series = receiver.Points.Where(point => point.Metric == metric).Select(point => string.Join(", ", point.Attributes.Select(pair => $"{pair.Key}={pair.Value}")) + $": {point.Value}").Distinct();
            receiver.Latest(metric, attributes).ShouldBe(total, $"{metric} {string.Join(", ", attributes)} among {string.Join(" | ", series)}");
        }
    }

    /// <summary>What <paramref name="find"/> finds once the exports have arrived, flushing them rather than waiting for their interval.</summary>
    private static async Task<T> EventuallyAsync<T>(RootApp app, OtlpReceiver receiver, Func<T?> find)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"the exports never brought what the test looks for; they brought {receiver.Describe()}");
            app.Services.GetService<TracerProvider>()?.ForceFlush(1000);
            app.Services.GetService<MeterProvider>()?.ForceFlush(1000);
            await Task.Delay(100, Cancel);
        }
    }
}
