using System.Diagnostics;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A server running as a child process of the tests, with its recent output kept for error messages.
/// </summary>
/// <remarks>
/// The server runs under a small bash "lifeline" that stops it as soon as its stdin, a pipe from this
/// process, reaches end of file. We close that pipe to stop the server, and the kernel closes it when the
/// test process dies in any way (even kill -9), so no server outlives the tests. PR_SET_PDEATHSIG is no
/// alternative: it fires when the thread that started the child exits, and thread-pool threads do.
/// </remarks>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultReadinessTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    // Arguments: the signal that stops the server gracefully, then the server's command line.
    // A background subshell reads our stdin (the server gets /dev/null) and stops the server at end of
    // file: with the stop signal, then SIGKILL if it still runs 2 s later. The wrapper exits with the
    // server. `wait -n` would be simpler but misses a server that exits before it is called (bash 5.2).
    private const string LifelineScript = """
        set -u
        stop_signal=$1
        shift
        stop_server() {
          kill -s "$stop_signal" "$server" 2>/dev/null
          for _ in {1..100}; do
            kill -0 "$server" 2>/dev/null || return 0
            sleep 0.02
          done
          kill -s KILL "$server" 2>/dev/null
        }
        exec 3<&0 </dev/null
        "$@" 3<&- &
        server=$!
        (
          while read -r -u 3 line; do :; done
          stop_server
        ) &
        lifeline=$!
        exec 3<&-
        trap stop_server TERM INT HUP
        wait "$server"
        status=$?
        kill "$lifeline" 2>/dev/null
        exit "$status"
        """;

    private readonly string serverName;
    private readonly string commandLine;
    private readonly Process process;
    private readonly OutputLog output = new();

    private ServerProcess(string serverName, string commandLine, Process process)
    {
        this.serverName = serverName;
        this.commandLine = commandLine;
        this.process = process;
    }

    /// <param name="stopSignal">The signal the server shuts down on quickly, e.g. TERM, or QUIT for PostgreSQL.</param>
    /// <param name="command">The server's executable, then its arguments.</param>
    /// <param name="onOutputLine">Sees every line the server writes to stdout, for servers that report what they receive there.</param>
    public static ServerProcess Start(string serverName, string stopSignal, IReadOnlyList<string> command, Action<string>? onOutputLine = null)
    {
        var bash = ServerHost.RequireExecutable("bash", serverName);
        var process = new Process
        {
            StartInfo = ServerCommand.CreateStartInfo([bash, "-c", LifelineScript, "server-lifeline", stopSignal, .. command]),
        };
        var server = new ServerProcess(serverName, ServerCommand.Format(command), process);
        process.OutputDataReceived += (_, line) =>
        {
            server.output.Add(line.Data);
            if (line.Data is not null)
            {
                onOutputLine?.Invoke(line.Data);
            }
        };
        process.ErrorDataReceived += (_, line) => server.output.Add(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    public string? FindOutputLine(Func<string, bool> match) => output.FindLine(match);

    /// <summary>
    /// Polls <paramref name="isReady"/> until it returns true. Fails with the server's output if the server
    /// exits first or the time runs out. A probe that overruns its own short timeout counts as "not yet".
    /// </summary>
    public async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> isReady, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultReadinessTimeout;
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await DrainOutputAsync();
                throw new InvalidOperationException(Describe($"exited with code {process.ExitCode} before it was ready"));
            }

            using (var probeTimeout = new CancellationTokenSource(ProbeTimeout))
            {
                try
                {
                    if (await isReady(probeTimeout.Token))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (probeTimeout.IsCancellationRequested)
                {
                }
            }

            if (stopwatch.Elapsed > limit)
            {
                throw new TimeoutException(Describe($"was not ready within {limit.TotalSeconds:0.#} s"));
            }

            await Task.Delay(ProbeInterval);
        }
    }

    /// <summary>Stops the server through its lifeline, killing the whole process tree if that takes too long.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await DrainOutputAsync();
            }
        }

        process.Dispose();
    }

    private string Describe(string problem) => OutputLog.Describe(serverName, problem, commandLine, output);

    private async Task DrainOutputAsync()
    {
        using var timeout = new CancellationTokenSource(OutputDrainTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A grandchild that left the process tree still holds the output pipe: go on without its output.
        }
    }
}
