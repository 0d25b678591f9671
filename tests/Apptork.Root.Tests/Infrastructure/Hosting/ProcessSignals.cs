using System.Runtime.InteropServices;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>SIGTERM, as an orchestrator stops a process gracefully (.NET's own Process.Kill sends only SIGKILL).</summary>
public static class ProcessSignals
{
    private const int SigTerm = 15;

    public static void Terminate(RootProcess.Running process)
    {
        if (kill(process.ProcessId, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({process.ProcessId}, SIGTERM) failed: errno {Marshal.GetLastWin32Error()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
