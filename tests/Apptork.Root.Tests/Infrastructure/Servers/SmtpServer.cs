using System.Globalization;
using System.Text.Json;
using Apptork.Root.Tests.Infrastructure.Categories;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Servers;

/// <summary>
/// A throwaway SMTP server (smtp-server, with mailparser reading each message, run by tests/peers/smtp.mjs on Node)
/// on 127.0.0.1, in plain text, that accepts any sender, any recipient and any credentials. Tests share it and tell
/// their mail apart by unique recipients. Recipients whose local part starts with <c>greylist</c> are refused once
/// with 451, as a greylisting server does; with <c>reject</c>, always with 550.
/// </summary>
public sealed class SmtpServer : IAsyncLifetime
{
    private const string ServerName = "SMTP (smtp-server)";
    private const string ReadyLinePrefix = "SMTP_READY ";
    private const string MessageLinePrefix = "SMTP_MESSAGE ";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly Lock gate = new();
    private readonly List<ReceivedMail> received = [];
    private readonly List<Waiter> waiters = [];
    private ServerProcess? server;
    private int port;

    public string Host => "127.0.0.1";

    public int Port
    {
        get
        {
            ServerHost.RequireServers(ServerName);
            return port != 0 ? port : throw new InvalidOperationException($"{ServerName} has not been started.");
        }
    }

    /// <summary>Every message received so far, in order of arrival.</summary>
    public IReadOnlyList<ReceivedMail> Received
    {
        get
        {
            lock (gate)
            {
                return [.. received];
            }
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (Category.ServersDisabled)
        {
            return;
        }

        var node = ServerHost.RequireExecutable("node", ServerName);
        var peers = Path.Combine(ServerHost.FindRepositoryRoot(), "tests", "peers");
        var script = ServerHost.RequireFile(Path.Combine(peers, "smtp.mjs"), ServerName);
        ServerHost.RequireFile(Path.Combine(peers, "node_modules", "smtp-server", "package.json"), ServerName);
        ServerHost.RequireFile(Path.Combine(peers, "node_modules", "mailparser", "package.json"), ServerName);

        // Port 0: the script binds a free port itself and reports it, so no other process can take it meanwhile.
        server = ServerProcess.Start(ServerName, "TERM", [node, script, "--port", "0"], OnOutputLine);
        await server.WaitUntilReadyAsync(_ => Task.FromResult(ReadyLine() is not null));
        port = int.Parse(ReadyLine()![ReadyLinePrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The first message, already received or arriving within <paramref name="timeout"/>, that <paramref name="match"/> accepts.</summary>
    public async Task<ReceivedMail> WaitForMessageAsync(Func<ReceivedMail, bool> match, TimeSpan timeout)
    {
        var waiter = new Waiter(match, new TaskCompletionSource<ReceivedMail>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (gate)
        {
            if (received.FirstOrDefault(match) is { } already)
            {
                return already;
            }

            waiters.Add(waiter);
        }

        try
        {
            return await waiter.Found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var subjects = Received.Select(mail => $"{string.Join(", ", mail.To)}: {mail.Subject}");
            throw new TimeoutException(
                $"{ServerName} received no matching message within {timeout.TotalSeconds:0.#} s. Received so far:\n{string.Join('\n', subjects)}");
        }
        finally
        {
            lock (gate)
            {
                waiters.Remove(waiter);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private string? ReadyLine() => server?.FindOutputLine(line => line.StartsWith(ReadyLinePrefix, StringComparison.Ordinal));

    private void OnOutputLine(string line)
    {
        if (!line.StartsWith(MessageLinePrefix, StringComparison.Ordinal))
        {
            return;
        }

        var mail = JsonSerializer.Deserialize<ReceivedMail>(line[MessageLinePrefix.Length..], Json)
            ?? throw new InvalidOperationException($"{ServerName} reported an empty message: {line}");
        lock (gate)
        {
            received.Add(mail);
            foreach (var waiter in waiters.Where(waiter => waiter.Match(mail)))
            {
                waiter.Found.TrySetResult(mail);
            }
        }
    }

    private sealed record Waiter(Func<ReceivedMail, bool> Match, TaskCompletionSource<ReceivedMail> Found);
}

/// <summary>One message as the SMTP peer received it: the envelope, then the headers and bodies as mailparser read them.</summary>
public sealed record ReceivedMail(
    string? EnvelopeFrom,
    IReadOnlyList<string> EnvelopeTo,
    string? AuthUser,
    string? From,
    string? FromAddress,
    string? FromName,
    IReadOnlyList<string> To,
    string? Subject,
    string? Text,
    string? Html,
    string? MessageId,
    string? ContentType,
    string? AutoSubmitted);
