using System.Globalization;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Email;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Health;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Json;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Redis;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Platform.Throttling;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Apptork.Root.Platform;

/// <summary>Cross-cutting services and middleware that every feature relies on.</summary>
public static class PlatformModule
{
    public const string DefaultUrl = "http://127.0.0.1:8000";

    /// <summary>The worker's own port (it serves only the health probes), so an api and a worker on one host do not clash.</summary>
    public const string DefaultWorkerUrl = "http://127.0.0.1:8001";

    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder)
    {
        builder.Configuration.ReadSettingsFilesBesideTheBinary();
        var services = builder.Services;
        var configuration = builder.Configuration;
        var shape = RuntimeShape.From(configuration);
        services.AddSingleton(shape);
        services.AddSingleton(TimeProvider.System);

        services.AddSettings<HttpLimitsOptions>(HttpLimitsOptions.Section);
        services.AddGracefulShutdown(shape);
        builder.AddErrorTracking(shape);
        services.AddStartupFailureLogFilter();
        services.AddJsonConsoleLogDefaults(configuration);
        services.AddTelemetry(configuration, shape, builder.Environment);
        if (string.IsNullOrEmpty(configuration[WebHostDefaults.ServerUrlsKey]) && string.IsNullOrEmpty(configuration["http_ports"]))
        {
            // In code rather than appsettings.json, so the binary started from any folder still listens only on loopback.
            builder.WebHost.UseUrls(shape.Role.ServesApi() ? DefaultUrl : DefaultWorkerUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Read leniently: a bad value is refused by name, with every other bad setting, before the server starts.
            kestrel.Limits.MaxRequestBodySize = long.TryParse(
                configuration[$"{HttpLimitsOptions.Section}:{nameof(HttpLimitsOptions.MaxRequestBodyBytes)}"], CultureInfo.InvariantCulture, out var limit)
                ? limit
                : HttpLimitsOptions.DefaultMaxRequestBodyBytes;
        });

        services.ConfigureHttpJsonOptions(options => JsonSetup.Configure(options.SerializerOptions));
        // Binding failures are thrown so that the one exception handler renders them in the standard payload.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddSingleton<ErrorResponseWriter>();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddRootLocalization();

        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Apptork Root API";
                document.Info.Description = "Headless backend for AI-powered apps. Every non-2xx response uses the ErrorPayload schema.";
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<ErrorResponsesTransformer>();
            options.AddOperationTransformer<ErrorResponsesTransformer>();
            options.AddOperationTransformer<IdempotencyKeyTransformer>();
            options.AddDocumentTransformer<BearerSecurityTransformer>();
            options.AddOperationTransformer<BearerSecurityTransformer>();
            options.AddDocumentTransformer<ServerUrlsTransformer>();
            options.AddDocumentTransformer<TagsTransformer>();
            options.AddDocumentTransformer<ClientHeadersTransformer>();
            options.AddOperationTransformer<ClientHeadersTransformer>();
            options.AddDocumentTransformer<IdempotencyKeyTransformer>();
            options.AddDocumentTransformer<PageParametersTransformer>();
            options.AddOperationTransformer<PageParametersTransformer>();
            options.AddSchemaTransformer<WireTypesSchemaTransformer>();
        });

        services.AddOptions<CorsSettings>().BindConfiguration(CorsSettings.Section);
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CorsSettings>>((cors, settings) => cors.AddDefaultPolicy(settings.Value.ToPolicy()));
        services.AddAuthentication();
        services.AddAuthorization();
        services.AddTrustedProxies(configuration);
        services.AddSettings<PublicUrlOptions>(PublicUrlOptions.Section);
        services.AddSingleton<IValidateOptions<PublicUrlOptions>, PublicUrlSettingsValidator>();
        services.AddSingleton<PublicUrls>();
        services.AddPersistence(configuration, builder.Environment);
        services.AddEmail();
        services.AddRedis(configuration);
        services.AddThrottling();
        services.AddHealthProbes();
        services.AddHealthPage(configuration);
        services.AddJobs(configuration, builder.Environment);
        services.AddFileStorage(configuration);
        services.AddIdempotency();
        return builder;
    }

    public static WebApplication UsePlatform(this WebApplication app)
    {
        // Before anything else, so no request escapes the count a graceful stop reports.
        app.UseGracefulShutdown();
        // First after it: everything after it (limits, logs, sign-in records) must see the client's address, not the proxy's.
        app.UseTrustedProxies();
        app.UseCorrelationId();
        app.UseRequestLocalization();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Reached only when ApiExceptionHandler declined (the response had already started): nothing more can be said.
            ExceptionHandler = _ => Task.CompletedTask,
        });
        app.UseStatusCodePages(StatusCodeErrors.WriteAsync);
        app.UseAllowedHosts();
        app.UseReadableRequestCharsets();
        app.UseCors();
        app.UseAuthentication();
        app.UseThrottling();
        app.UseAuthorization();
        app.UseMiddleware<IdempotencyMiddleware>();
        return app;
    }

    public static WebApplication MapPlatformEndpoints(this WebApplication app)
    {
        app.MapHealthProbes();
        app.UseHealthPage();
        if (app.ServesApi())
        {
            // A fixed path: the framework answers unknown document names in plain text, outside the standard payload.
            app.MapOpenApi("/openapi/v1.json");
            app.MapScalarApiReference("/docs", options => options.WithTitle("Apptork Root API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
            app.MapLocalFileUrls();
            app.MapGet("/", () => new ServiceIndex("Apptork Root", "/docs", "/openapi/v1.json", "/healthz/ready"))
                .ExcludeFromDescription();
        }

        return app;
    }

    public static bool ServesApi(this WebApplication app) => app.Services.GetRequiredService<RuntimeShape>().Role.ServesApi();

    private sealed record ServiceIndex(string Name, string Docs, string OpenApi, string Health);
}
