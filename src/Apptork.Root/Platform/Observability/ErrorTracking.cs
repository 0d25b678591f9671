using System.Reflection;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Email;
using Apptork.Root.Platform.Errors;
using Hangfire.Server;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Sentry;
using Sentry.AspNetCore;
using Sentry.Extensibility;
using Sentry.Extensions.Logging;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// Sentry for requests and background jobs, on only when <c>Sentry__Dsn</c> is set (otherwise no SDK is started and
/// nothing is added to the pipeline). Unhandled request exceptions are captured by Sentry's middleware, which runs
/// outside the exception handler and, once the handler has answered, reports the exception it left in
/// <c>IExceptionHandlerFeature</c>: <see cref="ApiExceptionHandler"/> needs no Sentry call of its own. Failed jobs are
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
        builder.WebHost.UseSentry(sentry => sentry.AddSentryOptions(options => Configure(options, settings.Dsn!, environment)));
        builder.Services.AddSingleton<ISentryEventProcessor, RequestErrorContext>();
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
    private static void Configure(SentryAspNetCoreOptions options, string dsn, string environment)
    {
        options.Dsn = dsn;
        options.Release = Release;
        options.Environment = environment;
        // The user is identified by id alone (RequestErrorContext); Sentry's defaults would add the name, IP and cookies.
        options.SendDefaultPii = false;
        // Bodies carry OTP codes, refresh tokens and signed webhook payloads: never read them.
        options.MaxRequestBodySize = RequestSize.None;
        // Traces are OpenTelemetry's; Sentry only reports errors.
        options.AutoRegisterTracing = false;
        options.TracesSampleRate = null;
        options.AddExceptionFilter(new ExpectedClientErrors());
        // Sentry's middleware reports the exception ApiExceptionHandler answered with a 500, marked unhandled and with the
        // route; that handler's log line of the same exception would otherwise be reported first, as a handled one.
        options.AddLogEntryFilter((category, _, _, exception) => exception is not null && category == typeof(ApiExceptionHandler).FullName);
        options.SetBeforeSend((sentryEvent, _) => ScrubEvent(sentryEvent));
        options.SetBeforeBreadcrumb((breadcrumb, _) => ScrubBreadcrumb(breadcrumb));
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
    /// Log lines become breadcrumbs, and the framework logs each request's URL, signed query strings included. Recorded
    /// anew (its time is now, as it is being recorded): a breadcrumb's text cannot be changed in place. The mails the
    /// embedded shape writes to the log are left out whole: their text is sign-in codes and links.
    /// </summary>
    private static Breadcrumb? ScrubBreadcrumb(Breadcrumb breadcrumb) => breadcrumb.Category == typeof(LogEmailSender).FullName ? null : new(
        SecretScrubber.Scrub(breadcrumb.Message) ?? string.Empty,
        breadcrumb.Type ?? "default",
        breadcrumb.Data?.ToDictionary(pair => pair.Key, pair => SecretScrubber.IsSecretName(pair.Key) ? SecretScrubber.Filtered : SecretScrubber.Scrub(pair.Value) ?? string.Empty),
        breadcrumb.Category,
        breadcrumb.Level);

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

    /// <summary>The request's user (by id, the token's <c>sub</c>) and correlation id, on every event raised during it.</summary>
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

            @event.SetTag(CorrelationIdTag, context.TraceIdentifier);
            if (context.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value is { } userId)
            {
                @event.User = new SentryUser { Id = userId };
            }

            return @event;
        }
    }
}
