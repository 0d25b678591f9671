using Hangfire.Client;
using Hangfire.Server;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Apptork.Root.Platform.Jobs;

/// <summary>
/// Carries the request's correlation id and user id into every job it enqueues, and puts them in the log scope of the
/// job's run, so a failure in a worker is traced to the request (and user) that caused it.
/// </summary>
public sealed class JobContext(IHttpContextAccessor httpContext, ILoggerFactory loggers) : IClientFilter, IServerFilter
{
    public const string CorrelationIdParameter = "CorrelationId";
    public const string UserIdParameter = "UserId";
    private const string ScopeItem = "apptork:log-scope";

    // The request a job is enqueued for when it is enqueued after the request (an outbox's dispatcher).
    private static readonly AsyncLocal<JobOrigin?> Origin = new();

    private readonly ILogger logger = loggers.CreateLogger("Apptork.Root.Jobs");

    /// <summary>Until disposed, jobs enqueued on this flow carry these ids and link to that span, as if enqueued by the request that had them.</summary>
    public static IDisposable EnqueuingFor(string? correlationId, Guid userId, string? traceParent)
    {
        var previous = Origin.Value;
        Origin.Value = new JobOrigin(correlationId, userId, traceParent);
        return new OriginScope(previous);
    }

    /// <summary>The span of the request a job is being enqueued for, when that is not the current flow's (<see cref="EnqueuingFor"/>).</summary>
    public static string? OriginTraceParent => Origin.Value?.TraceParent;

    public void OnCreating(CreatingContext context)
    {
        if (Origin.Value is { } origin)
        {
            if (origin.CorrelationId is not null)
            {
                context.SetJobParameter(CorrelationIdParameter, origin.CorrelationId);
            }

            context.SetJobParameter(UserIdParameter, origin.UserId.ToString());
            return;
        }

        if (httpContext.HttpContext is not { } request)
        {
            return;
        }

        context.SetJobParameter(CorrelationIdParameter, request.TraceIdentifier);
        if (request.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value is { } userId)
        {
            context.SetJobParameter(UserIdParameter, userId);
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context) => context.Items[ScopeItem] = logger.BeginScope(new JobLogScope(context));

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(ScopeItem, out var scope) && scope is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>
    /// The job's log scope. Its correlation and user ids are job parameters, a query to the job storage each: they are
    /// read when a line is first logged inside the job, so a job that logs nothing (most runs) makes neither query.
    /// </summary>
    private sealed class JobLogScope(PerformingContext context) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly Lazy<KeyValuePair<string, object?>[]> pairs = new(() =>
        [
            new("JobId", context.BackgroundJob.Id),
            new("Job", $"{context.BackgroundJob.Job.Type.Name}.{context.BackgroundJob.Job.Method.Name}"),
            new(CorrelationIdParameter, context.GetJobParameter<string>(CorrelationIdParameter) ?? context.BackgroundJob.Id),
            new(UserIdParameter, context.GetJobParameter<string>(UserIdParameter)),
        ]);

        public int Count => pairs.Value.Length;

        public KeyValuePair<string, object?> this[int index] => pairs.Value[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)pairs.Value).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => string.Join(", ", pairs.Value.Select(pair => $"{pair.Key}:{pair.Value}"));
    }

    private sealed record JobOrigin(string? CorrelationId, Guid UserId, string? TraceParent);

    private sealed class OriginScope(JobOrigin? previous) : IDisposable
    {
        public void Dispose() => Origin.Value = previous;
    }
}
