using System.Diagnostics;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>A short command that prepares a server (initdb, chown), failing with its output when it fails.</summary>
internal static class ServerCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <param name="command">The executable, then its arguments.</param>
    public static async Task RunAsync(string serverName, IReadOnlyList<string> command)
    {
        var commandLine = Format(command);
        var output = new OutputLog();
        using var process = new Process { StartInfo = CreateStartInfo(command) };
        process.OutputDataReceived += (_, line) => output.Add(line.Data);
        process.ErrorDataReceived += (_, line) => output.Add(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(OutputLog.Describe(serverName, $"did not finish within {Timeout.TotalSeconds:0} s", commandLine, output));
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(OutputLog.Describe(serverName, $"failed with exit code {process.ExitCode}", commandLine, output));
        }
    }

    public static ProcessStartInfo CreateStartInfo(IReadOnlyList<string> command)
    {
        ServerHost.RequireServers(command[0]);
        var startInfo = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    /// <summary>The command as it would be typed in a shell, to paste from an error message.</summary>
    public static string Format(IEnumerable<string> command) => string.Join(' ', command.Select(Quote));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(character => char.IsAsciiLetterOrDigit(character) || "-_./:=,@%+".Contains(character, StringComparison.Ordinal))
            ? argument
            : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
