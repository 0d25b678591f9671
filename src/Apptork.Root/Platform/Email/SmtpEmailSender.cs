using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace Apptork.Root.Platform.Email;

/// <summary>
/// Sends through <c>Email__Smtp__Host</c> with MailKit, on a fresh connection per message: mail here is a trickle of
/// codes and notices, and a connection that is never reused cannot go stale between them.
/// </summary>
public sealed class SmtpEmailSender(IOptions<EmailOptions> options) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var smtp = settings.Smtp;
        var host = smtp.Host ?? throw new InvalidOperationException("Email__Smtp__Host is checked at start; this sender is used only with it.");
        using var mime = Compose(message, settings.From);
        using var client = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(smtp.TimeoutSeconds).TotalMilliseconds };
        await client.ConnectAsync(host, smtp.Port, SocketSecurity(smtp), cancellationToken);
        if (!string.IsNullOrEmpty(smtp.Username))
        {
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? string.Empty, cancellationToken);
        }

        await client.SendAsync(mime, cancellationToken);
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or SmtpProtocolException or TimeoutException)
        {
            // The server has accepted the message; failing now would have the queue send it twice.
        }
    }

    internal static MimeMessage Compose(EmailMessage message, string from)
    {
        var sender = MailboxAddresses.ParseMailbox(from);
        var mime = new MimeMessage
        {
            Subject = message.Subject,
            // MimeKit would name this machine in the id; the sender's domain is what receiving filters expect.
            MessageId = MimeUtils.GenerateMessageId(sender.Domain),
            Body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody }.ToMessageBody(),
        };
        mime.From.Add(sender);
        mime.To.Add(MailboxAddresses.ParseMailbox(message.To));
        // RFC 3834: out-of-office and other auto-responders must not answer it.
        mime.Headers.Add("Auto-Submitted", "auto-generated");
        return mime;
    }

    /// <summary>
    /// Port 465 speaks TLS from the first byte; other ports must upgrade with STARTTLS. Not MailKit's Auto, which on
    /// those ports goes on in plain text when the server does not offer STARTTLS, so a tampered path could strip it.
    /// </summary>
    private static SecureSocketOptions SocketSecurity(SmtpOptions smtp) => smtp switch
    {
        { UseTls: false } => SecureSocketOptions.None,
        { Port: 465 } => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTls,
    };
}
