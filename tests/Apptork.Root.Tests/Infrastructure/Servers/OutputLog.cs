namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>The last lines a child process wrote to stdout and stderr, kept for error messages.</summary>
internal sealed class OutputLog
{
    private const int Capacity = 200;

    private readonly Queue<string> lines = new();
    private readonly Lock gate = new();

    public void Add(string? line)
    {
        // The process' streams signal their end with a null line.
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            if (lines.Count == Capacity)
            {
                lines.Dequeue();
            }

            lines.Enqueue(line);
        }
    }

    public string? FindLine(Func<string, bool> match)
    {
        lock (gate)
        {
            return lines.FirstOrDefault(match);
        }
    }

    public override string ToString()
    {
        lock (gate)
        {
            return lines.Count == 0 ? "(no output)" : string.Join('\n', lines);
        }
    }

    public static string Describe(string serverName, string problem, string commandLine, OutputLog output) =>
        $"""
        {serverName} {problem}.
        Command: {commandLine}
        Last output (up to {Capacity} lines):
        {output}
        """;
}
