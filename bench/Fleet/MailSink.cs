using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace Fleet;

/// <summary>
/// The fleet's mail server during a sign-in run: the least of SMTP that MailKit's client needs (greeting, EHLO, MAIL,
/// RCPT, DATA, QUIT), on loopback, handing the code in each mail to the sign-in waiting for it. Not the tests' SMTP peer:
/// that one waits 100 ms before greeting every connection (spotting clients that talk too soon), and with a connection
/// per mail and four senders per process it would cap sign-ins at 40 per second per process.
/// </summary>
internal sealed partial class MailSink : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> waiting = new(StringComparer.OrdinalIgnoreCase);
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;

    private MailSink(int port)
    {
        listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        accepting = AcceptAsync();
    }

    public static MailSink Listen(int port) => new(port);

    /// <summary>The code in the next mail to <paramref name="email"/>.</summary>
    public Task<string> NextCodeFor(string email)
    {
        var code = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting[email] = code;
        return code.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try
        {
            await accepting;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped, as asked.
        }

        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop.Token);
            _ = Task.Run(() => ConverseAsync(client));
        }
    }

    private async Task ConverseAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            // Latin-1 keeps every byte of the message as one char, so the MIME parser gets the bytes that were sent.
            using var reader = new StreamReader(stream, Encoding.Latin1);
            await using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 fleet-bench ESMTP");
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                switch (verb)
                {
                    case "RCPT":
                        recipients.Add(Recipient().Match(line).Groups[1].Value);
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        Deliver(recipients, await ReadMessageAsync(reader));
                        recipients.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 Bye");
                        return;
                    case "EHLO" or "HELO" or "MAIL" or "RSET" or "NOOP":
                        await writer.WriteLineAsync("250 OK");
                        break;
                    default:
                        await writer.WriteLineAsync("502 Command not implemented");
                        break;
                }
            }
        }
    }

    /// <summary>The message up to the line holding a single dot, with the dots that SMTP doubles at line starts undone.</summary>
    private async Task<byte[]> ReadMessageAsync(StreamReader reader)
    {
        var message = new StringBuilder();
        while (await reader.ReadLineAsync(stop.Token) is { } line && line != ".")
        {
            message.Append(line.StartsWith('.') ? line[1..] : line).Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(message.ToString());
    }

    private void Deliver(List<string> recipients, byte[] message)
    {
        using var mime = MimeMessage.Load(new MemoryStream(message));
        if (SixDigits().Match(mime.TextBody ?? string.Empty) is not { Success: true } code)
        {
            return;
        }

        foreach (var recipient in recipients)
        {
            if (waiting.TryRemove(recipient, out var waiter))
            {
                waiter.TrySetResult(code.Value);
            }
        }
    }

    [GeneratedRegex("<([^>]*)>")]
    private static partial Regex Recipient();

    [GeneratedRegex(@"\b[0-9]{6}\b")]
    private static partial Regex SixDigits();
}
