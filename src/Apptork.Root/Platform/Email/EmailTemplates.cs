using System.Globalization;
using System.Resources;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Apptork.Root.Platform.Localization;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Email;

/// <summary>
/// The platform's emails in the recipient's language, from <c>Resources/EmailTexts.*.resx</c>. Each is a text body and
/// an HTML alternative made from the same paragraphs. In the HTML every inserted value is encoded, and so is the
/// translated text around it, so neither an address nor a translation containing <c>&lt;</c> or <c>&amp;</c> can
/// change the markup. <c>{app}</c> in the texts is the display name of <c>Email__From</c>.
/// </summary>
public sealed partial class EmailTemplates(IOptions<EmailOptions> options)
{
    public static ResourceManager Texts { get; } = new("Apptork.Root.Resources.EmailTexts", typeof(EmailTemplates).Assembly);

    // The default encoder also escapes every non-ASCII letter (ó → &#xF3;); the message is UTF-8, so only markup needs escaping.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    private enum BlockKind
    {
        Paragraph,
        Code,
        Note,
    }

    /// <summary>The one-time sign-in code, with how long it is valid.</summary>
    public EmailMessage SignInCode(string to, string code, TimeSpan validFor, CultureInfo culture)
    {
        var language = LanguageFor(culture);
        var minutes = (int)Math.Ceiling(validFor.TotalMinutes);
        return Render(to, language, "sign_in_code_subject", Values(("minutes", minutes.ToString(language))),
            Text("sign_in_code_intro"), new Block(BlockKind.Code, code), Text("sign_in_code_validity"), Note("sign_in_code_ignore"));
    }

    /// <summary>
    /// The code that links a <paramref name="provider"/> sign-in to the account of this address: whoever asked must show
    /// they read this mailbox now. Says which provider asks, so the owner who did not can tell and ignore it.
    /// </summary>
    public EmailMessage ProviderLinkCode(string to, string code, string provider, TimeSpan validFor, CultureInfo culture)
    {
        var language = LanguageFor(culture);
        var minutes = (int)Math.Ceiling(validFor.TotalMinutes);
        return Render(to, language, "link_code_subject", Values(("minutes", minutes.ToString(language)), ("provider", provider)),
            Text("link_code_intro"), new Block(BlockKind.Code, code), Text("sign_in_code_validity"), Note("link_code_not_you"));
    }

    /// <summary>To the old address after the account's email changed to <paramref name="newAddress"/>, so a hijack does not go unnoticed.</summary>
    public EmailMessage EmailChanged(string oldAddress, string newAddress, CultureInfo culture)
    {
        var language = LanguageFor(culture);
        return Render(oldAddress, language, "email_changed_subject", Values(("new_email", newAddress)),
            Text("email_changed_body"), Note("email_changed_not_you"));
    }

    /// <summary>To the owner when failed codes have locked sign-in by code for their address until <paramref name="lockedUntil"/>.</summary>
    public EmailMessage SignInLocked(string to, DateTimeOffset lockedUntil, CultureInfo culture)
    {
        var language = LanguageFor(culture);
        // The recipient's time zone is unknown; UTC, said so, beats a local time that looks right and is not.
        var time = $"{lockedUntil.UtcDateTime.ToString("f", language)} UTC";
        return Render(to, language, "sign_in_locked_subject", Values(("time", time)),
            Text("sign_in_locked_body"), Note("sign_in_locked_not_you"));
    }

    /// <summary>
    /// To the owner when code requests for their address from all clients together reached their ceiling, so no code is
    /// mailed until <paramref name="pausedUntil"/>.
    /// </summary>
    public EmailMessage SignInCodesPaused(string to, DateTimeOffset pausedUntil, CultureInfo culture)
    {
        var language = LanguageFor(culture);
        var time = $"{pausedUntil.UtcDateTime.ToString("f", language)} UTC";
        return Render(to, language, "sign_in_codes_paused_subject", Values(("time", time)),
            Text("sign_in_codes_paused_body"), Note("sign_in_codes_paused_not_you"));
    }

    /// <summary>
    /// The supported language the texts are in: the culture or its nearest supported parent (es-MX → es), then the
    /// same language in another region (pt-PT → pt-BR, as for API responses), then the default.
    /// </summary>
    internal static CultureInfo LanguageFor(CultureInfo culture)
    {
        var supported = LocalizationSetup.SupportedCultures;
        for (var candidate = culture; !candidate.Equals(CultureInfo.InvariantCulture); candidate = candidate.Parent)
        {
            if (supported.FirstOrDefault(language => language.Name.Equals(candidate.Name, StringComparison.OrdinalIgnoreCase)) is { } match)
            {
                return match;
            }
        }

        return supported.FirstOrDefault(language => language.TwoLetterISOLanguageName == culture.TwoLetterISOLanguageName) ?? supported[0];
    }

    private static Block Text(string key) => new(BlockKind.Paragraph, key);

    private static Block Note(string key) => new(BlockKind.Note, key);

    private static Dictionary<string, string> Values(params (string Name, string Value)[] values) =>
        values.ToDictionary(value => value.Name, value => value.Value, StringComparer.Ordinal);

    private EmailMessage Render(string to, CultureInfo language, string subjectKey, Dictionary<string, string> values, params Block[] blocks)
    {
        values["app"] = AppName();
        var subject = Fill(Lookup(subjectKey, language), values, Plain);
        var text = new StringBuilder();
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html lang="{{language.Name}}">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{Html.Encode(subject)}}</title></head>
            <body style="margin:0;padding:24px 12px;background-color:#f4f4f5;color:#18181b;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;">
            <div style="max-width:480px;margin:0 auto;padding:32px;background-color:#ffffff;border-radius:8px;">

            """);
        foreach (var block in blocks)
        {
            var (plain, encoded) = block.Kind == BlockKind.Code
                ? (block.Content, Html.Encode(block.Content))
                : (Fill(Lookup(block.Content, language), values, Plain), Fill(Lookup(block.Content, language), values, Html.Encode));
            text.Append(plain).Append("\n\n");
            html.Append(CultureInfo.InvariantCulture, $"<p style=\"{Style(block.Kind)}\">{encoded}</p>\n");
        }

        html.Append("</div>\n</body>\n</html>\n");
        return new EmailMessage(to, subject, text.ToString().TrimEnd('\n') + "\n", html.ToString());
    }

    private static string Style(BlockKind kind) => kind switch
    {
        BlockKind.Code => "margin:0 0 16px;font-size:32px;line-height:40px;font-weight:bold;letter-spacing:6px;font-family:Menlo,Consolas,monospace;",
        BlockKind.Note => "margin:24px 0 0;font-size:14px;line-height:20px;color:#71717a;",
        _ => "margin:0 0 16px;font-size:16px;line-height:24px;",
    };

    /// <summary>The sender's display name, or its domain when it has none.</summary>
    private string AppName()
    {
        var from = MailboxAddresses.ParseMailbox(options.Value.From);
        return string.IsNullOrWhiteSpace(from.Name) ? from.Domain : from.Name;
    }

    private static string Lookup(string key, CultureInfo language) =>
        Texts.GetString(key, language) ?? throw new InvalidOperationException($"Email text '{key}' is missing from Resources/EmailTexts.resx.");

    private static string Plain(string text) => text;

    private static string Fill(string template, Dictionary<string, string> values, Func<string, string> encode)
    {
        var filled = new StringBuilder();
        var copied = 0;
        foreach (Match placeholder in Placeholder().Matches(template))
        {
            var name = placeholder.Groups[1].Value;
            var value = values.TryGetValue(name, out var known)
                ? known
                : throw new InvalidOperationException($"Email text placeholder {{{name}}} has no value in '{template}'.");
            filled.Append(encode(template[copied..placeholder.Index])).Append(encode(value));
            copied = placeholder.Index + placeholder.Length;
        }

        return filled.Append(encode(template[copied..])).ToString();
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex Placeholder();

    /// <summary>A paragraph: for text kinds <see cref="Content"/> is the resource key, for a code the code itself.</summary>
    private readonly record struct Block(BlockKind Kind, string Content);
}
