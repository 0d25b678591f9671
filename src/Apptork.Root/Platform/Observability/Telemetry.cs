using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Apptork.Root.Platform.Observability;

/// <summary>
/// OpenTelemetry traces and metrics, exported over OTLP and configured by the standard <c>OTEL_*</c> variables (read
/// from the configuration, so environment variables and settings files both work). Off unless an OTLP endpoint is
/// set: no provider is registered then, and the application's instruments and spans have no listener.
/// </summary>
public static class Telemetry
{
    public const string DefaultServiceName = "apptork-root";

    /// <summary>The running build's version, as <c>service.version</c>.</summary>
    public static string Version { get; } =
        typeof(Telemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration, RuntimeShape shape, IHostEnvironment environment)
    {
        var traces = IsSet(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT") || IsSet(configuration, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var metrics = IsSet(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT") || IsSet(configuration, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        if (!traces && !metrics)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource
            .AddService(
                serviceName: IsSet(configuration, "OTEL_SERVICE_NAME") ? configuration["OTEL_SERVICE_NAME"]! : DefaultServiceName,
                serviceVersion: Version)
            .AddAttributes(
            [
                new("apptork.role", shape.Role.ToString().ToLowerInvariant()),
                new("deployment.environment.name", environment.EnvironmentName),
            ]));

        if (traces)
        {
            services.AddSingleton<IStartupFilter, HttpServerSpans>();
            telemetry.WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new RequestsAndJobsSampler(RootShare(configuration))))
                // The framework's own request span, completed by HttpServerSpans.
                .AddSource(HttpServerSpans.ActivitySourceName)
                // The AI provider, Stripe and the identity providers all go through HttpClient.
                .AddHttpClientInstrumentation()
                // Npgsql's own spans: every PostgreSQL command, EF Core's included (its instrumentation is pre-release only).
                .AddNpgsql()
                .AddSource(JobTelemetry.SourceName)
                .AddOtlpExporter(otlp => DefaultToHttp(otlp, configuration, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")));
        }

        if (metrics)
        {
            telemetry.WithMetrics(metering => metering
                // http.server.request.duration and .active_requests, Kestrel's connections, unhandled exceptions. Not
                // AddAspNetCoreInstrumentation(), which also subscribes to ASP.NET Core 10's routing, authentication,
                // authorization and memory-pool meters: each records on every request (the memory pool on every buffer
                // rented), for figures an operator rarely reads, and together they cost a light endpoint a few percent
                // of its throughput (bench/instrumentation.sh).
                .AddMeter(AspNetCoreMeters)
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(RootMetrics.MeterName)
                // Npgsql's own: each connection pool's use (db.client.connection.count by state, .max), the application's
                // and the job storage's apart by pool name, and every command's duration.
                .AddMeter("Npgsql")
                .AddOtlpExporter(otlp => DefaultToHttp(otlp, configuration, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")));
        }

        return services;
    }

    private static readonly string[] AspNetCoreMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics"];

    private static bool IsSet(IConfiguration configuration, string key) => !string.IsNullOrWhiteSpace(configuration[key]);

    /// <summary>
    /// The share of the traces that requests and jobs start which are kept, <c>OTEL_TRACES_SAMPLER_ARG</c> as the
    /// standard ratio samplers read it (1 when unset); a caller's sampled or unsampled <c>traceparent</c> decides for itself.
    /// </summary>
    private static double RootShare(IConfiguration configuration)
    {
        if (!IsSet(configuration, "OTEL_TRACES_SAMPLER_ARG"))
        {
            return 1;
        }

        return double.TryParse(configuration["OTEL_TRACES_SAMPLER_ARG"], NumberStyles.Float, CultureInfo.InvariantCulture, out var share) && share is >= 0 and <= 1
            ? share
            : throw new StartupConfigurationException("OTEL_TRACES_SAMPLER_ARG", $"is '{configuration["OTEL_TRACES_SAMPLER_ARG"]}'; use a share between 0 and 1, e.g. 0.1.");
    }

    /// <summary>
    /// OTLP over HTTP (port 4318) unless a protocol is named: the specification's default, and what collectors and
    /// vendors accept most widely; the .NET exporter alone defaults to gRPC.
    /// </summary>
    private static void DefaultToHttp(OtlpExporterOptions otlp, IConfiguration configuration, string signalProtocolKey)
    {
        if (!IsSet(configuration, "OTEL_EXPORTER_OTLP_PROTOCOL") && !IsSet(configuration, signalProtocolKey))
        {
            otlp.Protocol = OtlpExportProtocol.HttpProtobuf;
        }
    }

    /// <summary>
    /// Keeps the configured share of the traces a request or a job starts, and drops the database and HTTP calls made
    /// outside any: Hangfire's queue polling and the caches' refreshes would otherwise export a one-span trace several
    /// times a second per process.
    /// </summary>
    private sealed class RequestsAndJobsSampler(double share) : Sampler
    {
        private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);
        private readonly TraceIdRatioBasedSampler byTraceId = new(share);

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            samplingParameters.Kind == ActivityKind.Client ? Dropped : byTraceId.ShouldSample(samplingParameters);
    }
}
