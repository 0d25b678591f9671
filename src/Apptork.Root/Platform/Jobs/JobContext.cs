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

    private readonly ILogger logger = loggers.CreateLogger("Apptork.Root.Jobs");

    public void OnCreating(CreatingContext context)
    {
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

    public void OnPerforming(PerformingContext context)
    {
        var scope = new Dictionary<string, object?>
        {
            ["JobId"] = context.BackgroundJob.Id,
            ["Job"] = $"{context.BackgroundJob.Job.Type.Name}.{context.BackgroundJob.Job.Method.Name}",
            [CorrelationIdParameter] = context.GetJobParameter<string>(CorrelationIdParameter) ?? context.BackgroundJob.Id,
            [UserIdParameter] = context.GetJobParameter<string>(UserIdParameter),
        };
        context.Items[ScopeItem] = logger.BeginScope(scope);
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(ScopeItem, out var scope) && scope is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
