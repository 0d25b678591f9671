using Hangfire.AspNetCore;
using Hangfire.Logging;

namespace Apptork.Root.Platform.Jobs;

/// <summary>
/// Hangfire's logging, which is process-wide (a static provider), sent to a host that is still running. Hangfire.NetCore
/// points that static at the logger factory of the last host to start; where one process runs several hosts (the test
/// suite, any WebApplicationFactory test) and that host stops, every other host's Hangfire threw ObjectDisposedException
/// on its next logger, and job fetches and enqueues stalled for minutes. Each Hangfire log line goes to the most
/// recently started host still running; a production process has one.
/// </summary>
public sealed class HostsLogProvider : ILogProvider
{
    public static readonly HostsLogProvider Instance = new();

    private readonly Lock gate = new();
    private readonly List<AspNetCoreLogProvider> running = [];

    private HostsLogProvider()
    {
    }

    public ILog GetLogger(string name) => new HostLog(this, name);

    /// <summary>While the returned handle lives, Hangfire may log to <paramref name="factory"/>.</summary>
    public IDisposable Register(ILoggerFactory factory)
    {
        var provider = new AspNetCoreLogProvider(factory);
        lock (gate)
        {
            running.Add(provider);
        }

        return new Registration(this, provider);
    }

    private AspNetCoreLogProvider? Current()
    {
        lock (gate)
        {
            return running.Count == 0 ? null : running[^1];
        }
    }

    private sealed class Registration(HostsLogProvider owner, AspNetCoreLogProvider provider) : IDisposable
    {
        public void Dispose()
        {
            lock (owner.gate)
            {
                owner.running.Remove(provider);
            }
        }
    }

    private sealed class HostLog(HostsLogProvider owner, string name) : ILog
    {
        // The host's logger, made again only when another host becomes the current one; one reference, so threads swap it whole.
        private Made? made;

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                if (owner.Current() is not { } provider)
                {
                    return false;
                }

                var current = made is { } cached && cached.Provider == provider ? cached : made = new Made(provider, provider.GetLogger(name));
                return current.Log.Log(logLevel, messageFunc, exception);
            }
            catch (ObjectDisposedException)
            {
                // The host stopped between the look-up and the line: the line is dropped, the job goes on.
                return false;
            }
        }

        private sealed record Made(AspNetCoreLogProvider Provider, ILog Log);
    }
}

/// <summary>Registers this host's logger factory with <see cref="HostsLogProvider"/> from its start to its stop.</summary>
public sealed class HangfireLogRegistration(ILoggerFactory factory) : IHostedLifecycleService
{
    private IDisposable? registration;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        registration = HostsLogProvider.Instance.Register(factory);
        // Also set here, not only through Hangfire's configuration: a host may create Hangfire's loggers before that is read.
        LogProvider.SetCurrentLogProvider(HostsLogProvider.Instance);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        registration?.Dispose();
        return Task.CompletedTask;
    }
}
