namespace Apptork.Root.Platform.Email;

/// <summary>Hands one message to the configured provider (<c>Email__Provider</c>). Callers use <see cref="IEmailQueue"/>, never this directly.</summary>
public interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
