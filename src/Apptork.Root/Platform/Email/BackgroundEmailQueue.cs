using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Threading.Channels;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Apptork.Root.Platform.Email;

/// <summary>
/// An in-memory queue in front of <see cref="IEmailSender"/>, drained by a few senders in the background, each retrying
/// transient failures (connection problems, SMTP 4xx) with backoff. On a graceful stop it takes no more mail and sends
/// what is queued until the host's shutdown timeout. Not an outbox: nothing is stored, so a crash loses what is
/// queued. Acceptable for sign-in codes and notices, since a user who gets no code asks again; mail that must survive
/// a crash waits for the durable jobs (Hangfire) that come later.
/// </summary>
/// <remarks>
/// Logs name recipients masked (<c>j***@example.com</c>) and never include bodies, which may hold a code; server
/// replies are logged with the recipient's address masked too, since servers often quote it.
/// </remarks>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "A queue of mail, which is what the name should say; not a collection type.")]
public sealed partial class BackgroundEmailQueue(IEmailSender sender, TimeProvider time, ILogger<BackgroundEmailQueue> logger)
    : BackgroundService, IEmailQueue
{
    /// <summary>A bound, so an SMTP outage costs a fixed amount of memory instead of growing with traffic; past it, mail is dropped and logged.</summary>
    private const int Capacity = 1000;

    /// <summary>Parallel senders, so one message waiting out its retries does not hold up the others.</summary>
    private const int Senders = 4;

    /// <summary>Waits before the second, third and fourth attempts: rides out a relay restart, not a long outage.</summary>
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    private readonly Channel<EmailMessage> queue = Channel.CreateBounded<EmailMessage>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait });

    // Cancelled only when the host's shutdown timeout runs out, unlike BackgroundService's stopping token, which is
    // cancelled as soon as the stop begins and so would leave queued mail unsent.
    private readonly CancellationTokenSource abandon = new();
    private int sending;

    public bool Enqueue(EmailMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!MailboxAddresses.TryParseMailbox(message.To, out _))
        {
            throw new ArgumentException("The recipient is not one email address.", nameof(message));
        }

        // TryWrite never waits: with the queue full it fails at once, and the request goes on.
        if (queue.Writer.TryWrite(message))
        {
            return true;
        }

        LogNotQueued(logger, MailboxAddresses.Mask(message.To), Capacity);
        return false;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await using (cancellationToken.Register(abandon.Cancel))
        {
            await base.StopAsync(cancellationToken);
        }

        if (abandon.IsCancellationRequested)
        {
            LogAbandoned(logger, queue.Reader.Count + Volatile.Read(ref sending));
        }
    }

    public override void Dispose()
    {
        abandon.Dispose();
        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => SendQueuedAsync(abandon.Token)));

    private async Task SendQueuedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in queue.Reader.ReadAllAsync(cancellationToken))
            {
                Interlocked.Increment(ref sending);
                try
                {
                    await SendWithRetriesAsync(message, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref sending);
                }
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The shutdown timeout ran out, whatever the send in progress made of that; StopAsync reports what was left.
        }
    }

    private async Task SendWithRetriesAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var recipient = MailboxAddresses.Mask(message.To);
        var attempts = RetryDelays.Length + 1;
        for (var attempt = 1; ; attempt++)
        {
            var started = time.GetTimestamp();
            try
            {
                await sender.SendAsync(message, cancellationToken);
                var elapsed = time.GetElapsedTime(started);
                LogSent(logger, recipient, attempt, elapsed.TotalMilliseconds);
                return;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Whatever went wrong with this message, the senders must live on for the next ones.
                var transient = IsTransient(exception);
                var reason = Describe(exception, message.To);
                if (!transient || attempt == attempts)
                {
                    LogNotSent(logger, recipient, attempt, transient ? "gave up" : "permanent failure", reason);
                    if (!IsDeliveryFailure(exception))
                    {
                        LogUnexpected(logger, exception);
                    }

                    return;
                }

                LogRetrying(logger, recipient, attempt, attempts, reason, RetryDelays[attempt - 1].TotalSeconds);
            }

            await Task.Delay(RetryDelays[attempt - 1], time, cancellationToken);
        }
    }

    /// <summary>Worth another try: the server or the path to it may be back in a moment.</summary>
    private static bool IsTransient(Exception exception) => exception switch
    {
        SmtpCommandException command => (int)command.StatusCode is >= 400 and < 500,
        SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException or TimeoutException => true,
        // MailKit's own operation timeout, not our cancellation (that one is filtered out before).
        OperationCanceledException => true,
        _ => false,
    };

    /// <summary>What the mail server or the network can cause; anything else is a bug, logged with its stack trace.</summary>
    private static bool IsDeliveryFailure(Exception exception) =>
        IsTransient(exception) || exception is SmtpCommandException or AuthenticationException or SslHandshakeException;

    /// <summary>The failure in one line, with the recipient's address masked wherever the server quoted it.</summary>
    private static string Describe(Exception exception, string to)
    {
        var text = exception is SmtpCommandException command
            ? $"SMTP {(int)command.StatusCode} ({command.ErrorCode}): {command.Message}"
            : $"{exception.GetType().Name}: {exception.Message}";
        return text.Replace(to, MailboxAddresses.Mask(to), StringComparison.OrdinalIgnoreCase);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Email to {Recipient} sent (attempt {Attempt}, {ElapsedMs:0} ms)")]
    private static partial void LogSent(ILogger logger, string recipient, int attempt, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Email to {Recipient} failed on attempt {Attempt} of {Attempts}: {Reason}; retrying in {DelaySeconds} s")]
    private static partial void LogRetrying(ILogger logger, string recipient, int attempt, int attempts, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Email to {Recipient} was not sent ({Outcome} after {Attempts} attempt(s)): {Reason}")]
    private static partial void LogNotSent(ILogger logger, string recipient, int attempts, string outcome, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure while sending an email")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Email to {Recipient} was dropped: the queue is full ({Capacity} messages) or the process is stopping")]
    private static partial void LogNotQueued(ILogger logger, string recipient, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The host's shutdown timeout ran out with {Count} email(s) unsent; they are lost")]
    private static partial void LogAbandoned(ILogger logger, int count);
}
