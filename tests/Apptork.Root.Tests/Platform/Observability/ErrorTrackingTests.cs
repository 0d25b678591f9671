using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sentry;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Observability;

/// <summary>
/// Sentry against a local ingestion endpoint. One class, so its hosts never run at the same time: the SDK keeps its hub
/// in a process-wide static, which a second host with a DSN would take over.
/// </summary>
public sealed class ErrorTrackingTests(PostgresServer postgres)
{
    private const string Environment = "sentry-test";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static RootApp.TestExtensions Probe { get; } = new(endpoints =>
    {
        var probe = endpoints.MapGroup("/test/sentry");
        probe.MapPost("/boom", string (HttpContext context) => FailingRequest.Refresh(context.Request.Query["refresh_token"].ToString()));
        probe.MapGet("/refused/{marker}", string (string marker) => throw ErrorCatalog.PermissionDenied.ToException());
        probe.MapPost("/jobs/{marker}", async (string marker, HttpContext context, JobEnqueuer jobs) =>
            Results.Ok(new { id = await jobs.EnqueueAsync<FailingJob>(job => job.RunAsync(marker, context.Request.Query["refresh_token"].ToString())) }))
            .RequireAuthorization();
    });

    [Fact]
    public async Task An_unhandled_request_exception_reaches_Sentry_with_its_stack_user_correlation_id_release_and_environment_and_no_secret()
    {
        await using var sentry = await LocalSentry.StartAsync();
        await using var app = await StartAsync(sentry);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("failing@example.com");
        var otpCode = await auth.LastCodeForAsync("failing@example.com");
        var correlationId = $"corr-{Guid.NewGuid():N}";

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/test/sentry/boom?refresh_token={signedIn.RefreshToken}&code={otpCode}")
        {
            Content = JsonContent.Create(new { refresh_token = signedIn.RefreshToken, code = otpCode }),
        };
        request.Headers.Authorization = new("Bearer", signedIn.AccessToken);
        request.Headers.Add("Cookie", $"refresh_token={signedIn.RefreshToken}; otp={otpCode}");
        request.Headers.Add("X-Correlation-Id", correlationId);
        using var response = await auth.Http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);

        var reported = await sentry.WaitForEventAsync(e => Tag(e, ErrorTracking.CorrelationIdTag) == correlationId, "for the failing request");
        Frames(reported).ShouldContain(frame => frame.Contains(nameof(FailingRequest.Refresh), StringComparison.Ordinal));
        var thrown = reported.GetProperty("exception").GetProperty("values").EnumerateArray()
            .Single(exception => exception.GetProperty("type").GetString() == typeof(InvalidOperationException).FullName);
        // Reported by Sentry's middleware from the exception handler's feature, as unhandled: the client got a 500.
        thrown.GetProperty("mechanism").GetProperty("handled").GetBoolean().ShouldBeFalse();
        thrown.GetProperty("value").GetString().ShouldBe($"Refreshing failed for refresh_token={SecretScrubber.Filtered}");
        var user = reported.GetProperty("user");
        user.GetProperty("id").GetString().ShouldBe(signedIn.User.Id.ToString());
        user.TryGetProperty("email", out _).ShouldBeFalse();
        user.TryGetProperty("ip_address", out _).ShouldBeFalse();
        reported.GetProperty("release").GetString().ShouldBe(ErrorTracking.Release);
        reported.GetProperty("release").GetString().ShouldStartWith("Apptork.Root@");
        reported.GetProperty("environment").GetString().ShouldBe(Environment);

        await app.Services.GetRequiredService<IHub>().FlushAsync(TimeSpan.FromSeconds(5));
        AssertNoSecret(sentry, signedIn.AccessToken, signedIn.RefreshToken, otpCode, "failing@example.com");
    }

    [Fact]
    public async Task A_client_error_is_not_reported()
    {
        await using var sentry = await LocalSentry.StartAsync();
        await using var app = await StartAsync(sentry);
        var client = app.Client();
        var marker = Guid.NewGuid().ToString("N");
        using (var refused = await client.GetAsync($"/test/sentry/refused/{marker}", Cancel))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        // Sent after the refusal: once its event has arrived, the refusal's would have too.
        var correlationId = $"after-{marker}";
        using var failing = new HttpRequestMessage(HttpMethod.Post, "/test/sentry/boom");
        failing.Headers.Add("X-Correlation-Id", correlationId);
        using (var response = await client.SendAsync(failing, Cancel))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        }

        await sentry.WaitForEventAsync(e => Tag(e, ErrorTracking.CorrelationIdTag) == correlationId, "for the 500");
        // The refusal may be a breadcrumb of the later event (its request's log line), never an event of its own.
        sentry.Events.Select(RequestUrl).ShouldNotContain(url => url != null && url.Contains(marker));
        sentry.Events.SelectMany(e => e.GetProperty("exception").GetProperty("values").EnumerateArray())
            .ShouldNotContain(exception => exception.GetProperty("type").GetString() == typeof(ApiException).FullName);
    }

    [Fact]
    public async Task A_failing_job_is_reported_for_each_attempt_with_its_name_id_attempt_user_correlation_id_and_scrubbed_arguments()
    {
        await using var sentry = await LocalSentry.StartAsync();
        await using var app = await StartAsync(sentry);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("jobs@example.com");
        var marker = Guid.NewGuid().ToString("N");
        var correlationId = $"corr-{marker}";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/test/sentry/jobs/{marker}?refresh_token={signedIn.RefreshToken}");
        request.Headers.Authorization = new("Bearer", signedIn.AccessToken);
        request.Headers.Add("X-Correlation-Id", correlationId);
        using var response = await auth.Http.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var jobId = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("id").GetString();

        foreach (var attempt in new[] { "1", "2" })
        {
            var reported = await sentry.WaitForEventAsync(
                e => Tag(e, "job.id") == jobId && Tag(e, "job.attempt") == attempt, $"for attempt {attempt} of job {jobId}");
            Tag(reported, "job.name").ShouldBe($"{nameof(FailingJob)}.{nameof(FailingJob.RunAsync)}");
            Tag(reported, ErrorTracking.CorrelationIdTag).ShouldBe(correlationId);
            reported.GetProperty("user").GetProperty("id").GetString().ShouldBe(signedIn.User.Id.ToString());
            Frames(reported).ShouldContain(frame => frame.Contains(nameof(FailingJob.RunAsync), StringComparison.Ordinal));
            var job = reported.GetProperty("contexts").GetProperty("job");
            job.GetProperty("id").GetString().ShouldBe(jobId);
            job.GetProperty("attempt").GetInt32().ShouldBe(int.Parse(attempt, System.Globalization.CultureInfo.InvariantCulture));
            var arguments = job.GetProperty("arguments");
            arguments.GetProperty("marker").GetString().ShouldBe($"\"{marker}\"");
            arguments.GetProperty("refreshToken").GetString().ShouldBe(SecretScrubber.Filtered);
        }

        await app.Services.GetRequiredService<IHub>().FlushAsync(TimeSpan.FromSeconds(5));
        sentry.Events.Count(e => Tag(e, "job.id") == jobId).ShouldBe(2, "one report per attempt, not one more from the failure's log line");
        AssertNoSecret(sentry, signedIn.AccessToken, signedIn.RefreshToken);
    }

    [Fact]
    public async Task Without_a_DSN_no_SDK_is_started_and_nothing_is_sent_even_after_a_host_with_one_stopped()
    {
        await using var sentry = await LocalSentry.StartAsync();
        // The SDK is process-wide: a host with a DSN that ran before must leave nothing behind it.
        await (await StartAsync(sentry)).DisposeAsync();
        SentrySdk.IsEnabled.ShouldBeFalse("a stopped host closes the SDK it started");

        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, extensions: Probe);
        using (var response = await app.Client().PostAsync("/test/sentry/boom", null, Cancel))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        }

        app.Services.GetService<IHub>().ShouldBeNull();
        app.Services.GetServices<Hangfire.Server.IServerFilter>().ShouldBeEmpty();
        SentrySdk.IsEnabled.ShouldBeFalse("no host with a DSN is running, and this one has none");
        sentry.RawEnvelopes.ShouldBeEmpty();
    }

    private Task<RootApp> StartAsync(LocalSentry sentry) => RootApp.StartAsync(
        TestDatabases.For(postgres),
        DatabaseShape.Sqlite,
        new Dictionary<string, string?> { ["Sentry:Dsn"] = sentry.Dsn, ["Sentry:Environment"] = Environment },
        Probe);

    private static void AssertNoSecret(LocalSentry sentry, params string[] secrets)
    {
        var everything = sentry.AllEnvelopesText();
        everything.ShouldNotBeEmpty();
        foreach (var secret in secrets)
        {
            // Delimited, so that a six-digit code is not found inside a timestamp or an id.
            Regex.IsMatch(everything, $"(?<![A-Za-z0-9]){Regex.Escape(secret)}(?![A-Za-z0-9])").ShouldBeFalse($"'{secret}' was sent to Sentry");
        }
    }

    private static string? RequestUrl(JsonElement sentEvent) =>
        sentEvent.TryGetProperty("request", out var request) && request.TryGetProperty("url", out var url) ? url.GetString() : null;

    private static string? Tag(JsonElement sentEvent, string name) =>
        sentEvent.TryGetProperty("tags", out var tags) && tags.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static List<string> Frames(JsonElement sentEvent) =>
        [.. sentEvent.GetProperty("exception").GetProperty("values").EnumerateArray()
            .Where(exception => exception.TryGetProperty("stacktrace", out _))
            .SelectMany(exception => exception.GetProperty("stacktrace").GetProperty("frames").EnumerateArray())
            .Select(frame => $"{(frame.TryGetProperty("module", out var module) ? module.GetString() : null)}.{(frame.TryGetProperty("function", out var function) ? function.GetString() : null)}")];
}

/// <summary>A bug that puts a token in its message: the report must still not carry it.</summary>
public static class FailingRequest
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static string Refresh(string refreshToken) =>
        throw new InvalidOperationException($"Refreshing failed for refresh_token={refreshToken}");
}

/// <summary>A job that always fails, retried once at once, so both attempts are reported within the test.</summary>
public sealed class FailingJob
{
    [AutomaticRetry(Attempts = 1, DelaysInSeconds = new[] { 0 })]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public Task RunAsync(string marker, string refreshToken) =>
        throw new InvalidOperationException($"Job {marker} failed with a token of {refreshToken.Length} characters");
}
