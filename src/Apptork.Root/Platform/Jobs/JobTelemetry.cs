using System.Diagnostics;
using Apptork.Root.Platform.Observability;
using Hangfire.Client;
using Hangfire.Server;

namespace Apptork.Root.Platform.Jobs;

/// <summary>
/// A span for every job run, and its duration and failures as metrics. The span is a new trace LINKED to the span that
/// enqueued the job, not its child: the request has long answered when a worker runs the job, and a retry runs it again
/// (OpenTelemetry's messaging conventions, "process" span). No OpenTelemetry package has a Hangfire instrumentation.
/// </summary>
public sealed class JobTelemetry : IClientFilter, IServerFilter
{
    public const string SourceName = "Apptork.Root.Jobs";
    public const string TraceParentParameter = "TraceParent";
    private const string RunItem = "apptork:telemetry";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The current span's W3C traceparent, only while tracing is on (someone listens to the job spans) and the span is
    /// recorded: otherwise there is nothing for a job to link to.
    /// </summary>
    public static string? RecordedTraceParent() => Source.HasListeners() && Activity.Current is { Recorded: true, Id: { } traceParent } ? traceParent : null;

    public void OnCreating(CreatingContext context)
    {
        // A job enqueued after its request (an outbox's dispatcher) links to the request's span, kept with the job it owed.
        if ((JobContext.OriginTraceParent ?? RecordedTraceParent()) is { } traceParent)
        {
            context.SetJobParameter(TraceParentParameter, traceParent);
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        var job = context.BackgroundJob.Job;
        // A recurring job runs through one runner method: its id says which one it is (a few, so fine as a metric tag).
        var name = job.Type == typeof(RecurringJobRunner) && job.Args is [string id, ..] ? id : $"{job.Type.Name}.{job.Method.Name}";
        Activity? activity = null;
        if (Source.HasListeners())
        {
            ActivityLink[]? links = ActivityContext.TryParse(context.GetJobParameter<string>(TraceParentParameter), null, isRemote: true, out var enqueuer)
                ? [new ActivityLink(enqueuer)]
                : null;
            // Started here, synchronously on the worker's thread, so it is the current span for the whole run (the job's
            // database and HTTP spans are its children) and is stopped in OnPerformed.
            activity = Source.StartActivity(ActivityKind.Consumer, parentContext: default, links: links, name: $"process {name}");
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("messaging.system", "hangfire");
                activity.SetTag("messaging.operation.type", "process");
                activity.SetTag("messaging.destination.name", job.Queue ?? "default");
                activity.SetTag("messaging.message.id", context.BackgroundJob.Id);
                activity.SetTag("apptork.job.name", name);
                activity.SetTag("apptork.job.attempt", context.GetJobParameter<int>("RetryCount") + 1);
            }
        }

        context.Items[RunItem] = new JobRun(name, Stopwatch.GetTimestamp(), activity);
    }

    public void OnPerformed(PerformedContext context)
    {
        if (!context.Items.TryGetValue(RunItem, out var item) || item is not JobRun run)
        {
            return;
        }

        // Hangfire wraps what the job threw; the job's own exception is what explains the failure.
        var exception = context.ExceptionHandled ? null : context.Exception is Hangfire.Server.JobPerformanceException { InnerException: { } inner } ? inner : context.Exception;
        RootMetrics.JobRan(run.Name, Stopwatch.GetElapsedTime(run.Started), failed: exception is not null);
        if (run.Activity is not { } activity)
        {
            return;
        }

        if (exception is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.AddException(exception);
        }

        activity.Dispose();
    }

    private sealed record JobRun(string Name, long Started, Activity? Activity);
}
