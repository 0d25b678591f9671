using System.Diagnostics.CodeAnalysis;

namespace Apptork.Root.Platform.Email;

/// <summary>Where request handlers leave mail: sending happens in the background, so no response waits for, or reveals, SMTP.</summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "A queue of mail, which is what the name should say; not a collection type.")]
public interface IEmailQueue
{
    /// <summary>
    /// Queues <paramref name="message"/> and returns at once. False when it could not be queued (the queue is full or
    /// the process is stopping); that is logged, and the caller carries on as if it had been sent.
    /// </summary>
    /// <exception cref="ArgumentException">The recipient is not one email address.</exception>
    bool Enqueue(EmailMessage message);
}
