using System.Reflection;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Errors;
using Hangfire.Server;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Sentry;
using Sentry.Extensibility;
using Sentry.Extensions.Logging;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// Sentry for requests and background jobs, on only when <c>Sentry__Dsn</c> is set (otherwise no SDK is started).
/// The SDK is started on its own with its logging integration, without <c>Sentry.AspNetCore</c>'s middleware: that
/// middleware clones a scope and continues a trace on every request, which cost 40% of a light endpoint's throughput
/// (bench/instrumentation.sh), to report the few that fail. Instead the error line <see cref="ApiExceptionHandler"/>
/// logs for each unhandled exception, the one place every 500 passes, is the report; <see cref="RequestErrorContext"/>
/// gives it the request, route, user and correlation id, at no cost to the requests that succeed. Failed jobs are
/// reported by <see cref="JobErrorReporting"/>. Events carry the user id only, never an email, an IP address, a cookie,
/// a request body or a token (<see cref="SecretScrubber"/>).
/// </summary>
public static class ErrorTracking
{
    public const string CorrelationIdTag = "correlation_id";

    public static WebApplicationBuilder AddErrorTracking(this WebApplicationBuilder builder, RuntimeShape shape)
    {
        builder.Services.AddSettings<ErrorTrackingOptions>(ErrorTrackingOptions.Section);
        var settings = builder.Configuration.GetSection(ErrorTrackingOptions.Section).Get<ErrorTrackingOptions>() ?? new ErrorTrackingOptions();
        if (!settings.IsEnabled)
        {
            return builder;
        }

        var environment = EnvironmentName(settings, builder.Environment, shape);
        var sdkSettings = builder.Configuration.GetSection(ErrorTrackingOptions.Section);
        builder.Services.AddHostedService(services => new SentrySdkLifetime(options =>
        {
            // The SDK's other settings (Sentry__SampleRate, Sentry__Debug, ...) first, so that none can undo Configure's.
            sdkSettings.Bind(options);
            Configure(options, settings.Dsn!, environment, services.GetRequiredService<IHttpContextAccessor>());
        }));
        builder.Services.AddSingleton<IHub>(HubAdapter.Instance);
        // Errors logged anywhere become events; information never becomes a breadcrumb (see Configure).
        var firstAddedBySentry = builder.Services.Count;
        builder.Logging.AddSentry(options =>
        {
            options.MinimumBreadcrumbLevel = LogLevel.None;
            options.MinimumEventLevel = LogLevel.Error;
        });
        ErrorEventsLoggerProvider.WrapAddedProviders(builder.Services, firstAddedBySentry);
        builder.Services.AddSingleton<IServerFilter, JobErrorReporting>();
        return builder;
    }

    /// <summary><c>Apptork.Root@1.2.3+commit</c>: the informational version the build stamps on the application.</summary>
    public static string Release { get; } = "Apptork.Root@" + (typeof(ErrorTracking).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");

    internal static string EnvironmentName(ErrorTrackingOptions settings, IHostEnvironment host, RuntimeShape shape) =>
        !string.IsNullOrWhiteSpace(settings.Environment) ? settings.Environment.Trim()
        : !host.IsProduction() ? host.EnvironmentName.ToLowerInvariant()
        : shape.IsProduction ? "production" : "embedded";

    /// <summary>Applied after Sentry's own binding of the <c>Sentry</c> section, so no setting can turn the privacy choices off.</summary>
    private static void Configure(SentryOptions options, string dsn, string environment, IHttpContextAccessor requests)
    {
        options.Dsn = dsn;
        options.Release = Release;
        options.Environment = environment;
        // The user is identified by id alone (RequestErrorContext); Sentry's defaults would add the name and IP.
        options.SendDefaultPii = false;
        // Traces and metrics are OpenTelemetry's; Sentry only reports errors, so it need not watch every database command
        // or listen to the framework's meters (a listener makes ASP.NET Core record each request's metrics).
        options.TracesSampleRate = null;
        options.DisableDiagnosticSourceIntegration();
        options.DisableSystemDiagnosticsMetricsIntegration();
        // With no scope per request, breadcrumbs would be the whole process's: other requests' and other users' log lines
        // and outgoing calls in each report. An error's correlation id finds its request's own lines in the logs instead.
        options.MaxBreadcrumbs = 0;
        // The logging integration also copies every log line to Sentry's log store, with no setting to turn that off: logs
        // stay in the process's own output (they hold the embedded shape's mails, sign-in codes included).
        options.SetBeforeSendLog(_ => null);
        // Nor does Sentry need the count of what is dropped on purpose here.
        options.SendClientReports = false;
        options.AddExceptionFilter(new ExpectedClientErrors());
        options.AddEventProcessor(new RequestErrorContext(requests));
        options.SetBeforeSend((sentryEvent, _) => ScrubEvent(sentryEvent));
    }

    private static SentryEvent ScrubEvent(SentryEvent sentryEvent)
    {
        if (sentryEvent.Request is { } request)
        {
            request.Cookies = null;
            request.Data = null;
            request.Url = SecretScrubber.Scrub(request.Url);
            // Names only: a presigned URL's signature or a stream URL's token is a value.
            request.QueryString = string.IsNullOrEmpty(request.QueryString)
                ? request.QueryString
                : string.Join('&', QueryHelpers.ParseQuery(request.QueryString).Keys.Select(name => $"{name}={SecretScrubber.Filtered}"));
            ScrubValues(request.Headers);
            ScrubValues(request.Env);
            ScrubValues(request.Other);
        }

        sentryEvent.User = string.IsNullOrEmpty(sentryEvent.User.Id) ? new SentryUser() : new SentryUser { Id = sentryEvent.User.Id };
        if (sentryEvent.Message is { } message)
        {
            message.Message = SecretScrubber.Scrub(message.Message);
            message.Formatted = SecretScrubber.Scrub(message.Formatted);
            message.Params = null;
        }

        foreach (var exception in sentryEvent.SentryExceptions ?? [])
        {
            exception.Value = SecretScrubber.Scrub(exception.Value);
            if (exception.Mechanism is { } mechanism)
            {
                ScrubValues(mechanism.Data);
            }
        }

        foreach (var (key, value) in sentryEvent.Extra.ToList())
        {
            sentryEvent.SetExtra(key, SecretScrubber.IsSecretName(key) ? SecretScrubber.Filtered : value switch
            {
                null => null,
                string text => SecretScrubber.Scrub(text),
                _ when value.GetType().IsPrimitive => value,
                _ => SecretScrubber.Scrub(value.ToString()),
            });
        }

        foreach (var (key, value) in sentryEvent.Tags.ToList())
        {
            // The correlation id is what the report is searched by; the caller chose it, within a safe alphabet.
            if (key != CorrelationIdTag)
            {
                sentryEvent.SetTag(key, SecretScrubber.IsSecretName(key) ? SecretScrubber.Filtered : SecretScrubber.Scrub(value) ?? string.Empty);
            }
        }

        return sentryEvent;
    }

    private static void ScrubValues<TValue>(IDictionary<string, TValue> values)
    {
        foreach (var (key, value) in values.ToList())
        {
            if (SecretScrubber.IsSecretName(key))
            {
                values.Remove(key);
            }
            else if (value is string text)
            {
                values[key] = (TValue)(object)SecretScrubber.Scrub(text)!;
            }
        }
    }

    /// <summary>
    /// Starts the process-wide SDK when the host starts, and flushes and closes it when the host stops, so that a host
    /// started after this one (a test's, or a command's) finds none running.
    /// </summary>
    private sealed class SentrySdkLifetime(Action<SentryOptions> configure) : IHostedService
    {
        private IDisposable? sdk;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            sdk = SentrySdk.Init(configure);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            sdk?.Dispose();
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Sentry's logger provider with its loggers' scopes left out: Sentry's logger turns every log scope into a Sentry scope,
    /// cloned from the current one, and the host and <see cref="CorrelationId"/> open one around every request, which cost
    /// a light endpoint about a tenth of its throughput (bench/instrumentation.sh). Nothing is lost: the request's context
    /// comes from <see cref="RequestErrorContext"/> and a job's from <see cref="JobErrorReporting"/>, not from log scopes.
    /// </summary>
    [ProviderAlias("Sentry")]
    private sealed class ErrorEventsLoggerProvider(ILoggerProvider sentry) : ILoggerProvider, ISupportExternalScope
    {
        // The SDK's provider type is internal (and registered as the SDK sees fit): recognized by its name once created.
        private const string SentryProviderTypeName = "Sentry.Extensions.Logging.SentryLoggerProvider";

        /// <summary>Wraps Sentry's event provider among the logger providers registered from <paramref name="firstAdded"/> on.</summary>
        public static void WrapAddedProviders(IServiceCollection services, int firstAdded)
        {
            var added = services.Skip(firstAdded).Where(service => service.ServiceType == typeof(ILoggerProvider) && !service.IsKeyedService).ToList();
            if (added.Count == 0)
            {
                throw new InvalidOperationException("AddSentry registered no logger provider: this Sentry version integrates with logging differently.");
            }

            foreach (var registered in added)
            {
                services[services.IndexOf(registered)] = ServiceDescriptor.Singleton<ILoggerProvider>(provider =>
                {
                    var created = (ILoggerProvider)(registered.ImplementationInstance
                        ?? registered.ImplementationFactory?.Invoke(provider)
                        ?? ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!));
                    return created.GetType().FullName == SentryProviderTypeName ? new ErrorEventsLoggerProvider(created) : created;
                });
            }
        }

        public ILogger CreateLogger(string categoryName) => new ScopelessLogger(sentry.CreateLogger(categoryName));

        // Supporting external scopes is what keeps the logger factory from calling the loggers' own BeginScope.
        public void SetScopeProvider(IExternalScopeProvider scopeProvider)
        {
        }

        public void Dispose() => sentry.Dispose();

        private sealed class ScopelessLogger(ILogger sentry) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => sentry.IsEnabled(logLevel);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                sentry.Log(logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>
    /// The failures the API answers with a 4xx on purpose (a validation failure, a refused token, a malformed body): they
    /// are the client's, expected, and would bury the real errors.
    /// </summary>
    private sealed class ExpectedClientErrors : IExceptionFilter
    {
        public bool Filter(Exception ex) => ex switch
        {
            ApiException api => api.Status < StatusCodes.Status500InternalServerError,
            BadHttpRequestException badRequest => badRequest.StatusCode < StatusCodes.Status500InternalServerError,
            _ => false,
        };
    }

    /// <summary>
    /// What an event raised while a request is handled needs from it: the method, URL and route, the user (by id, the
    /// token's <c>sub</c>) and the correlation id. The exception the exception handler is answering is marked unhandled:
    /// it reached the handler only because nothing else caught it.
    /// </summary>
    private sealed class RequestErrorContext(IHttpContextAccessor accessor) : ISentryEventProcessor
    {
        public SentryEvent? Process(SentryEvent @event)
        {
            if (accessor.HttpContext is not { } context)
            {
                return @event;
            }

            // A client that went away is no error of ours (ApiExceptionHandler answers nobody for the same reason).
            if (@event.Exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            {
                return null;
            }

            var request = context.Request;
            @event.Request.Method = request.Method;
            @event.Request.Url = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}";
            @event.Request.QueryString = request.QueryString.Value;
            if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
            {
                @event.TransactionName = $"{request.Method} {route}";
            }

            @event.SetTag(CorrelationIdTag, context.TraceIdentifier);
            if (context.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value is { } userId)
            {
                @event.User = new SentryUser { Id = userId };
            }

            if (@event.Exception is { } exception && ReferenceEquals(exception, context.Features.Get<IExceptionHandlerFeature>()?.Error))
            {
                foreach (var reported in @event.SentryExceptions ?? [])
                {
                    reported.Mechanism = new Sentry.Protocol.Mechanism { Type = nameof(ApiExceptionHandler), Handled = false };
                }
            }

            return @event;
        }
    }
}
