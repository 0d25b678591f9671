using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// The application's own measurements, exported with the framework's when OpenTelemetry is on (<see cref="Telemetry"/>).
/// Static, like the framework's: an instrument nobody listens to costs a field read, so the hot paths record always.
/// Tags are few and bounded (a kind, a scope, a status), never a user or an id.
/// </summary>
public static class RootMetrics
{
    public const string MeterName = "Apptork.Root";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Credits = Meter.CreateCounter<long>(
        "apptork.wallet.credits", "{credit}", "Credits moved by the ledger, by entry kind and direction (credit or debit); replays are not counted.");

    private static readonly Counter<long> OtpSent = Meter.CreateCounter<long>(
        "apptork.otp.sent", "{code}", "Sign-in, email-change and provider-link codes issued, by purpose.");

    private static readonly Counter<long> OtpVerified = Meter.CreateCounter<long>(
        "apptork.otp.verified", "{code}", "Codes accepted.");

    private static readonly Counter<long> OtpFailed = Meter.CreateCounter<long>(
        "apptork.otp.failed", "{code}", "Codes refused, by reason (the error code answered).");

    private static readonly Counter<long> Throttled = Meter.CreateCounter<long>(
        "apptork.throttle.refused", "{request}", "Requests refused by a throttling scope (429, or 503 while a fail-closed scope's store is away), by scope.");

    private static readonly Counter<long> GenerationTransitions = Meter.CreateCounter<long>(
        "apptork.generation.transitions", "{generation}", "Generations entering a status (queued, running, succeeded, failed), by status.");

    private static readonly Histogram<double> JobDuration = Meter.CreateHistogram(
        "apptork.job.duration", "s", "Background job runs, by job and outcome (succeeded or failed).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] });

    private static readonly Counter<long> JobFailures = Meter.CreateCounter<long>(
        "apptork.job.failures", "{run}", "Background job runs that threw (Hangfire retries or fails them), by job.");

    public static void CreditsMoved(string kind, long amount) =>
        Credits.Add(Math.Abs(amount), new("kind", kind), new("direction", amount > 0 ? "credit" : "debit"));

    public static void OtpCodeSent(string purpose) => OtpSent.Add(1, new KeyValuePair<string, object?>("purpose", purpose));

    public static void OtpCodeVerified() => OtpVerified.Add(1);

    public static void OtpCodeFailed(string reason) => OtpFailed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void RequestThrottled(string scope) => Throttled.Add(1, new KeyValuePair<string, object?>("scope", scope));

    public static void GenerationEntered(string status) => GenerationTransitions.Add(1, new KeyValuePair<string, object?>("status", status));

    public static void JobRan(string job, TimeSpan duration, bool failed)
    {
        var tags = new TagList { { "job", job }, { "outcome", failed ? "failed" : "succeeded" } };
        JobDuration.Record(duration.TotalSeconds, tags);
        if (failed)
        {
            JobFailures.Add(1, new KeyValuePair<string, object?>("job", job));
        }
    }
}
