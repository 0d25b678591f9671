using System.Globalization;
using Apptork.Root.Platform.Email;

namespace Apptork.Root.Features.Auth.Otp;

/// <summary>
/// The mails of email sign-in, in the user's language. Queued, never sent inline: the request must answer in the same
/// time whether or not a mail goes out, and must not wait for an SMTP server.
/// </summary>
public sealed class SignInCodeMailer(IEmailQueue emailQueue, EmailTemplates templates)
{
    public void SendCode(string email, string code, int validMinutes, CultureInfo culture) =>
        emailQueue.Enqueue(templates.SignInCode(email, code, TimeSpan.FromMinutes(validMinutes), culture));

    public void SendLinkCode(string email, string code, string provider, int validMinutes, CultureInfo culture) =>
        emailQueue.Enqueue(templates.ProviderLinkCode(email, code, provider, TimeSpan.FromMinutes(validMinutes), culture));

    public void SendLockNotice(string email, DateTimeOffset lockedUntil, CultureInfo culture) =>
        emailQueue.Enqueue(templates.SignInLocked(email, lockedUntil, culture));

    public void SendCodesPausedNotice(string email, DateTimeOffset pausedUntil, CultureInfo culture) =>
        emailQueue.Enqueue(templates.SignInCodesPaused(email, pausedUntil, culture));

    public void SendEmailChangedNotice(string previousEmail, string newEmail, CultureInfo culture) =>
        emailQueue.Enqueue(templates.EmailChanged(previousEmail, newEmail, culture));
}
