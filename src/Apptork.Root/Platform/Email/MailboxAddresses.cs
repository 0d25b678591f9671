using System.Diagnostics.CodeAnalysis;
using MimeKit;

namespace Apptork.Root.Platform.Email;

/// <summary>
/// Addresses the way mail headers carry them (a MimeKit mailbox, with an optional display name), for the mail we send,
/// and masked for the logs. Which addresses an account may use is <see cref="Features.Fraud.EmailNormalizer"/>'s call.
/// </summary>
internal static class MailboxAddresses
{
    // MimeKit takes "someone" alone for an address by default; mail to or from it could never be delivered.
    private static readonly ParserOptions Parser = new() { AllowAddressesWithoutDomain = false };

    public static bool TryParseMailbox(string? text, [NotNullWhen(true)] out MailboxAddress? mailbox)
    {
        mailbox = null;
        return !string.IsNullOrWhiteSpace(text) && MailboxAddress.TryParse(Parser, text, out mailbox);
    }

    public static MailboxAddress ParseMailbox(string text) =>
        TryParseMailbox(text, out var mailbox) ? mailbox : throw new ArgumentException("Not an email address.", nameof(text));

    /// <summary>
    /// <c>jane.doe@example.com</c> → <c>j***@example.com</c>: enough for an operator to tell a provider's
    /// rejections apart, without putting people's addresses in the logs.
    /// </summary>
    public static string Mask(string address)
    {
        var at = address.LastIndexOf('@');
        return at <= 0 ? "***" : $"{address[0]}***{address[at..]}";
    }
}
