using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Hosting;

/// <summary>
/// SIGTERM, as orchestrators stop a process: <c>/healthz/ready</c> answers 503 at once while requests are still served
/// for <see cref="ShutdownOptions.DrainSeconds"/>; then the server stops accepting connections and gives the requests
/// it holds <see cref="ShutdownOptions.TimeoutSeconds"/> to finish; the job server, stopped at the same signal, lets
/// running jobs finish or hands them back. Event streams end at the signal (their clients reconnect elsewhere), so
/// they never hold the shutdown up. The process then says whether every request was answered, and exits 0.
/// </summary>
public sealed partial class GracefulShutdown(RuntimeShape shape, IOptions<ShutdownOptions> options, ILogger<GracefulShutdown> logger) : IHostedLifecycleService
{
    private int running;

    /// <summary>Counts the requests under way, so the last line says whether any was cut off.</summary>
    internal async Task CountAsync(HttpContext context, RequestDelegate next)
    {
        Interlocked.Increment(ref running);
        try
        {
            await next(context);
        }
        finally
        {
            Interlocked.Decrement(ref running);
        }
    }

    /// <summary>Runs after the stop signal (readiness already answers 503) and before the server stops accepting connections.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var drain = options.Value.Drain(shape);
        LogStopping(logger, drain.TotalSeconds, options.Value.TimeoutSeconds);
        if (drain <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.Delay(drain, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's whole budget ran out first (a second signal, or a budget shorter than the drain): stop now.
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        var cutOff = Volatile.Read(ref running);
        if (cutOff == 0)
        {
            LogDrained(logger);
        }
        else
        {
            LogCutOff(logger, cutOff);
        }

        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: not ready (/healthz/ready answers 503), serving {DrainSeconds} s more, then up to {TimeoutSeconds} s for requests under way")]
    private static partial void LogStopping(ILogger logger, double drainSeconds, int timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained: every request accepted was answered; stopped")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped with {Count} request(s) cut off at Shutdown__TimeoutSeconds")]
    private static partial void LogCutOff(ILogger logger, int count);
}

public static class GracefulShutdownSetup
{
    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services, RuntimeShape shape)
    {
        services.AddSettings<ShutdownOptions>(ShutdownOptions.Section);
        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(provider => provider.GetRequiredService<GracefulShutdown>());
        // Overrides the host's own default (30 s, or the shutdownTimeoutSeconds setting), which knows neither the drain nor the jobs.
        services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>, IOptions<JobsOptions>>((host, shutdown, jobs) =>
            host.ShutdownTimeout = shutdown.Value.HostTimeout(shape, jobs.Value));
        return services;
    }

    /// <summary>First in the pipeline, so every request is counted.</summary>
    public static IApplicationBuilder UseGracefulShutdown(this IApplicationBuilder app)
    {
        var shutdown = app.ApplicationServices.GetRequiredService<GracefulShutdown>();
        return app.Use(shutdown.CountAsync);
    }
}
