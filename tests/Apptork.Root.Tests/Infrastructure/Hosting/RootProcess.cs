using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>
/// Runs the real Apptork.Root binary as a child process, as an operator would: for the <c>migrate</c> command
/// and for start-up behaviour that an in-memory host cannot show (refusing to start, exit codes, messages).
/// </summary>
public static class RootProcess
{
    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(
        IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, string? workingDirectory = null)
    {
        await using var running = Start(arguments, environment, workingDirectory);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await running.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Apptork.Root {string.Join(' ', arguments)} did not exit within {timeout}:\n{running.Output}");
        }
    }

    /// <summary>
    /// The environment of a production-shape child process on a test database: the secrets, the database, mail to the
    /// SMTP peer, files on the local disk, and the given settings (configuration keys, written as environment variables).
    /// </summary>
    public static Dictionary<string, string> ProductionEnvironment(
        string postgresConnectionString, Servers.SmtpServer smtp, IReadOnlyDictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string>(TestSecrets.Environment)
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Postgres"] = postgresConnectionString,
            ["Email__Provider"] = "Smtp",
            ["Email__Smtp__Host"] = smtp.Host,
            ["Email__Smtp__Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email__Smtp__UseTls"] = "false",
            ["Storage__Provider"] = "Local",
            // The host these processes are called by (any port): no test follows a link such a process hands out.
            ["Http__PublicBaseUrl"] = "http://127.0.0.1",
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        return environment;
    }

    /// <summary>
    /// Starts the binary in the production shape with <paramref name="settings"/> (written as environment variables) on a
    /// database nothing listens on, for the settings checks that refuse to start before any connection; its exit code
    /// must be 78 (EX_CONFIG), and what it printed is returned.
    /// </summary>
    public static async Task<string> RefusedStartAsync(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var environment = new Dictionary<string, string>(TestSecrets.Environment)
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Database=apptork;Username=apptork;Password=f0b1c2d3e4a5",
            ["Email__Provider"] = "Smtp",
            ["Email__Smtp__Host"] = "127.0.0.1",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var result = await RunAsync([], environment, TimeSpan.FromSeconds(60), ScratchDirectory("apptork-start-"));
        Shouldly.ShouldBeTestExtensions.ShouldBe(result.ExitCode, 78, result.Output);
        return result.Output;
    }

    /// <summary>An empty folder to start the binary in, as an operator would start it in a fresh directory.</summary>
    public static string ScratchDirectory(string prefix) => Directory.CreateTempSubdirectory(prefix).FullName;

    public static string FreeLoopbackUrl() => $"http://127.0.0.1:{Servers.ServerHost.FreeLoopbackPort()}";

    /// <summary>
    /// Starts the binary (the build output's, unless <paramref name="executable"/> names another, e.g. a published one) and
    /// returns at once; disposing kills it if it still runs.
    /// </summary>
    public static Running Start(
        IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string? workingDirectory = null, string? executable = null)
    {
        Servers.ServerHost.RequireServers("the Apptork.Root binary as a child process");
        var startInfo = new ProcessStartInfo(executable ?? Path.Combine(AppContext.BaseDirectory, "Apptork.Root"))
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Only what the test sets: nothing of the test runner's own ASP.NET settings leaks into the product.
        foreach (var inherited in startInfo.Environment.Keys.Where(key => key.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || key.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return new Running(startInfo);
    }

    public sealed class Running : IAsyncDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new();

        internal Running(ProcessStartInfo startInfo)
        {
            process = new Process { StartInfo = startInfo };
            process.OutputDataReceived += (_, line) => Append(line.Data);
            process.ErrorDataReceived += (_, line) => Append(line.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int ProcessId => process.Id;

        public bool HasExited => process.HasExited;

        public string Output
        {
            get
            {
                lock (output)
                {
                    return output.ToString();
                }
            }
        }

        public async Task<Result> WaitForExitAsync(CancellationToken cancellationToken)
        {
            await process.WaitForExitAsync(cancellationToken);
            process.WaitForExit();
            return new Result(process.ExitCode, Output);
        }

        /// <summary>
        /// SIGTERM, as an orchestrator stops a process (docker stop, a Kubernetes rollout): the host's graceful shutdown runs.
        /// Waits for the exit; a process still running after <paramref name="timeout"/> fails the caller with its output.
        /// </summary>
        public async Task<Result> TerminateAsync(TimeSpan timeout)
        {
            try
            {
                SendTerminate();
            }
            catch (InvalidOperationException) when (process.HasExited)
            {
                // It had ended already: nothing to stop.
            }

            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                return await WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Apptork.Root did not exit within {timeout} of SIGTERM:\n{Output}");
            }
        }

        /// <summary>Sends SIGTERM and returns at once (.NET's own Process.Kill sends only SIGKILL).</summary>
        public void SendTerminate()
        {
            if (kill(process.Id, SigTerm) != 0)
            {
                throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastWin32Error()}");
            }
        }

        /// <summary>SIGKILL, as the kernel's OOM killer or a pulled plug would end it: no shutdown code runs.</summary>
        public async Task KillAsync()
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        private const int SigTerm = 15;

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);

        private void Append(string? line)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
