using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Apptork.Root.Tests.Infrastructure.Hosting;

namespace Apptork.Root.Tests.Infrastructure.Fleet;

/// <summary>
/// One process of a <see cref="RootFleet"/>: the published binary in one role on its own loopback port, started with the
/// fleet's environment. It can be killed (SIGKILL), terminated (SIGTERM) and started again on the same port.
/// </summary>
public sealed class FleetProcess : IAsyncDisposable
{
    // Far beyond the few seconds a start takes, for a machine busy with other tests (and CI neighbours).
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(180);

    private readonly IReadOnlyDictionary<string, string> environment;
    private readonly string workingDirectory;
    private readonly StringBuilder earlierOutput = new();
    private RootProcess.Running running;

    internal FleetProcess(string role, int index, Uri baseAddress, IReadOnlyDictionary<string, string> environment)
    {
        Role = role;
        Name = $"{role}-{index}";
        BaseAddress = baseAddress;
        this.environment = new Dictionary<string, string>(environment) { ["Role"] = role };
        workingDirectory = RootProcess.ScratchDirectory($"apptork-fleet-{Name}-");
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        running = Launch();
    }

    /// <summary><c>api</c> or <c>worker</c>, as the <c>Role</c> setting names it.</summary>
    public string Role { get; }

    /// <summary><c>api-1</c>, <c>worker-2</c>: for messages.</summary>
    public string Name { get; }

    /// <summary>http://127.0.0.1:port, where this process alone answers.</summary>
    public Uri BaseAddress { get; }

    /// <summary>How the proxy names this process in <see cref="Servers.NginxProxy.UpstreamHeader"/>: 127.0.0.1:port.</summary>
    public string Upstream => BaseAddress.Authority;

    /// <summary>Straight to this process, not through the proxy.</summary>
    public HttpClient Client { get; }

    public bool HasExited => running.HasExited;

    /// <summary>The running process's id (a new one after a restart): the job server names itself <c>machine:pid</c>.</summary>
    public int ProcessId => running.ProcessId;

    /// <summary>Everything the process wrote, across its restarts.</summary>
    public string Output
    {
        get
        {
            lock (earlierOutput)
            {
                return earlierOutput.ToString() + running.Output;
            }
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as when the machine or the OOM killer ends it.</summary>
    public Task KillAsync() => running.KillAsync();

    /// <summary>SIGTERM, then waits for the exit (the host's graceful shutdown); returns the exit code and output.</summary>
    public Task<RootProcess.Result> TerminateAsync(TimeSpan? timeout = null) => running.TerminateAsync(timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>Starts the process again on the same port, after it was killed or terminated, and waits until it is ready.</summary>
    public async Task RestartAsync()
    {
        if (!running.HasExited)
        {
            throw new InvalidOperationException($"{Name} still runs: kill or terminate it first.");
        }

        lock (earlierOutput)
        {
            earlierOutput.Append(running.Output).AppendLine(CultureInfo.InvariantCulture, $"----- {Name} restarted -----");
        }

        await running.DisposeAsync();
        running = Launch();
        await WaitUntilReadyAsync();
    }

    /// <summary>Polls <c>/healthz/ready</c> until it answers 200: the database is reachable and migrated.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (running.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited before it was ready:\n{Output}");
            }

            try
            {
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var response = await Client.GetAsync("/healthz/ready", probe.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
            {
                // Not listening yet.
            }

            if (stopwatch.Elapsed > ReadyTimeout)
            {
                throw new TimeoutException($"{Name} was not ready within {ReadyTimeout.TotalSeconds:0} s:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await running.DisposeAsync();
        Directory.Delete(workingDirectory, recursive: true);
    }

    private RootProcess.Running Launch() =>
        RootProcess.Start(["--Urls", BaseAddress.GetLeftPart(UriPartial.Authority)], environment, workingDirectory, PublishedRoot.Path);
}
