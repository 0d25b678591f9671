using System.Globalization;
using System.Text.Json;
using Apptork.Root.Platform.Jobs;
using Hangfire.Server;
using Sentry;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// Reports a failed job run to Sentry with the job's name, id, attempt, arguments (secrets removed), and the user and
/// correlation ids the request that enqueued it left in the job's parameters (<see cref="JobContext"/>). Written here
/// because <c>Sentry.Hangfire</c> is not served by the package feed this project builds from, and what it adds beyond
/// this filter (check-ins for recurring jobs) is not needed.
/// Every failed attempt is reported, each tagged with its number: Sentry groups them into one issue by stack trace, and
/// a job that fails and then succeeds on a retry is still a failure worth seeing (a flaky provider, a race).
/// </summary>
public sealed class JobErrorReporting(IHub hub) : IServerFilter
{
    /// <summary>Hangfire's own parameter: how many times the job was retried before this run (0 on the first).</summary>
    public const string RetryCountParameter = "RetryCount";

    public void OnPerforming(PerformingContext context)
    {
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Exception is null || context.ExceptionHandled || !hub.IsEnabled)
        {
            return;
        }

        // Hangfire wraps what the job threw; the report is about the job's own exception and stack.
        var exception = context.Exception is Hangfire.Server.JobPerformanceException { InnerException: { } thrown } ? thrown : context.Exception;
        if (exception is OperationCanceledException && context.CancellationToken.ShutdownToken.IsCancellationRequested)
        {
            // The worker is stopping: the job goes back to its queue, it did not fail.
            return;
        }

        // Unhandled: Hangfire catches it only to record the job as failed (and retry it by the job's policy).
        exception.SetSentryMechanism("Hangfire.Job", "A background job threw.", handled: false);
        var job = context.BackgroundJob.Job;
        var name = $"{job.Type.Name}.{job.Method.Name}";
        var id = context.BackgroundJob.Id;
        var attempt = context.GetJobParameter<int>(RetryCountParameter) + 1;
        var correlationId = context.GetJobParameter<string>(JobContext.CorrelationIdParameter) ?? id;
        var userId = context.GetJobParameter<string>(JobContext.UserIdParameter);
        hub.CaptureException(exception, scope =>
        {
            scope.TransactionName = name;
            scope.SetTag("job.name", name);
            scope.SetTag("job.id", id);
            scope.SetTag("job.attempt", attempt.ToString(CultureInfo.InvariantCulture));
            scope.SetTag(ErrorTracking.CorrelationIdTag, correlationId);
            if (userId is not null)
            {
                scope.User = new SentryUser { Id = userId };
            }

            scope.Contexts["job"] = new Dictionary<string, object?>
            {
                ["name"] = name,
                ["id"] = id,
                ["attempt"] = attempt,
                ["arguments"] = Arguments(job),
            };
        });
    }

    /// <summary>Each argument by its parameter's name, as JSON with secrets scrubbed; a secret-named parameter not at all.</summary>
    internal static Dictionary<string, string?> Arguments(Hangfire.Common.Job job)
    {
        var arguments = new Dictionary<string, string?>();
        var parameters = job.Method.GetParameters();
        for (var index = 0; index < parameters.Length && index < job.Args.Count; index++)
        {
            var parameter = parameters[index];
            if (parameter.ParameterType == typeof(CancellationToken))
            {
                continue;
            }

            var name = parameter.Name ?? index.ToString(CultureInfo.InvariantCulture);
            arguments[name] = SecretScrubber.IsSecretName(name) ? SecretScrubber.Filtered : SecretScrubber.Scrub(Serialize(job.Args[index]));
        }

        return arguments;
    }

    private static string Serialize(object? value)
    {
        try
        {
            return JsonSerializer.Serialize(value);
        }
        catch (NotSupportedException)
        {
            return value?.GetType().Name ?? "null";
        }
    }
}
