namespace Apptork.Root.Platform.Email;

/// <summary>One rendered email to one recipient. The bodies may hold a sign-in code: they are never logged, except by the embedded shape's <see cref="LogEmailSender"/>.</summary>
public sealed record EmailMessage(string To, string Subject, string TextBody, string HtmlBody)
{
    // A record prints every property, and a message that reaches a log line through {Message} must not carry its code there.
    public override string ToString() => $"Email to {MailboxAddresses.Mask(To)}: {Subject}";
}
