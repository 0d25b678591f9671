namespace Apptork.Root.Platform.Email;

/// <summary>
/// The embedded shape's provider: every message goes to the log, recipient, subject and text body included. That is
/// how a developer running the product locally reads the sign-in code they asked for. Because it prints codes, a
/// production-shape process refuses to start with it (<see cref="EmailSettingsValidator"/>).
/// </summary>
public sealed partial class LogEmailSender(ILogger<LogEmailSender> logger) : IEmailSender
{
    public Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        LogMessage(logger, message.To, message.Subject, message.TextBody);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Email (Email__Provider=Log) to {To}: {Subject}\n{TextBody}")]
    private static partial void LogMessage(ILogger logger, string to, string subject, string textBody);
}
