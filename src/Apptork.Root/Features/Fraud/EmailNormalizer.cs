using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Apptork.Root.Features.Fraud;

/// <summary>An email address that passed <see cref="EmailNormalizer.TryNormalize"/>.</summary>
/// <param name="Address">Where to send mail: trimmed, the local part as typed, the domain lower-case ASCII (punycode) without a trailing dot.</param>
/// <param name="Domain">The domain of <paramref name="Address"/>: what disposable-domain checks and operator rules look at.</param>
/// <param name="CanonicalKey">
/// One key per mailbox: lower-case, with the sub-address tags (and Gmail's dots) of the providers that ignore them
/// removed. Accounts are unique on it, and deduplication counts by it.
/// </param>
public sealed record NormalizedEmail(string Address, string Domain, string CanonicalKey);

/// <summary>
/// Validates and normalizes email addresses. Stricter than RFC 5322 on purpose: it accepts what real mailboxes use
/// and what can be canonicalized without ambiguity, and refuses the rest as malformed.
/// </summary>
/// <remarks>
/// Decisions on the edge cases:
/// <list type="bullet">
/// <item>The local part is an ASCII dot-atom. Quoted local parts (<c>"john doe"@example.com</c>) are refused: no
/// consumer provider issues them, they have escaping rules that would need their own canonical form, and they are a
/// classic vector for parser differentials between this check and a mail server. Non-ASCII local parts (RFC 6531) are
/// refused too, since delivering them needs SMTPUTF8 from every relay on the way.</item>
/// <item>Domains are host names: letters, digits and hyphens, at least two labels, and a top-level label that is not
/// all digits. IP literals (<c>user@[192.0.2.1]</c>) and bare addresses (<c>user@127.0.0.1</c>) are refused: they
/// bypass every domain-based control (disposable list, operator rules), cannot be matched to a provider, and would let
/// a caller point the product's mail at any host, internal ones included.</item>
/// <item>Provider rules apply to the exact provider domains only: <c>x@mail.gmail.com</c> is not a Gmail address and
/// keeps its dots and tags, as does any unknown domain (a <c>+</c> or <c>-</c> may be significant there).</item>
/// <item>An address whose mailbox name would be empty once its tag is removed (<c>+news@outlook.com</c>) cannot exist
/// at that provider and is refused.</item>
/// <item>Inputs longer than 254 characters are refused before any work, and so is a result longer than that (a
/// Unicode domain grows when converted to punycode).</item>
/// </list>
/// </remarks>
public static class EmailNormalizer
{
    public const int MaxAddressLength = 254;
    public const int MaxLocalPartLength = 64;
    public const int MaxDomainLength = 253;
    public const int MaxLabelLength = 63;

    private static readonly SearchValues<char> LocalPartCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.");

    private static readonly SearchValues<char> DomainLabelCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    /// <summary>
    /// The providers whose mailboxes ignore part of the local part, by exact domain. A domain listed here wrongly would
    /// merge distinct mailboxes, so the list keeps to domains the providers themselves issue addresses on.
    /// </summary>
    private static readonly FrozenDictionary<string, MailboxRules> Providers = BuildProviders();

    /// <summary>Normalizes <paramref name="input"/>; false when it is not a well-formed address (answer <c>invalid</c>).</summary>
    public static bool TryNormalize(string? input, [NotNullWhen(true)] out NormalizedEmail? result)
    {
        result = null;
        var trimmed = input.AsSpan().Trim();
        if (trimmed.Length > MaxAddressLength)
        {
            return false;
        }

        var at = trimmed.IndexOf('@');
        if (at < 0 || trimmed[(at + 1)..].Contains('@'))
        {
            return false;
        }

        var localPart = trimmed[..at];
        if (!IsDotAtom(localPart) || !TryNormalizeHostName(trimmed[(at + 1)..], out var domain))
        {
            return false;
        }

        var address = string.Concat(localPart, "@", domain);
        var mailbox = localPart.ToString().ToLowerInvariant();
        var canonicalDomain = domain;
        if (Providers.TryGetValue(domain, out var provider))
        {
            mailbox = provider.Mailbox(mailbox);
            canonicalDomain = provider.CanonicalDomain ?? domain;
        }

        if (address.Length > MaxAddressLength || mailbox.Length == 0)
        {
            return false;
        }

        result = new NormalizedEmail(address, domain, $"{mailbox}@{canonicalDomain}");
        return true;
    }

    /// <summary>
    /// Normalizes a domain name as <see cref="TryNormalize"/> does an address's domain: lower-case, Unicode converted
    /// to punycode, one trailing dot removed. For operator rules as well as addresses; surrounding spaces are ignored.
    /// </summary>
    public static bool TryNormalizeDomain(string? input, [NotNullWhen(true)] out string? domain) =>
        TryNormalizeHostName(input.AsSpan().Trim(), out domain);

    private static bool TryNormalizeHostName(ReadOnlySpan<char> input, [NotNullWhen(true)] out string? domain)
    {
        domain = null;
        if (input.IsEmpty || input.Length > MaxAddressLength)
        {
            return false;
        }

        string ascii;
        try
        {
            // IdnMapping returns pure-ASCII input unchanged, so case is folded first. It refuses spaces, control
            // characters and malformed xn-- labels. A new instance each time: instances are not documented thread-safe.
            ascii = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(input.ToString().ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            return false;
        }

        if (ascii.EndsWith('.'))
        {
            ascii = ascii[..^1];
        }

        if (!IsHostName(ascii))
        {
            return false;
        }

        domain = ascii;
        return true;
    }

    private static bool IsDotAtom(ReadOnlySpan<char> localPart) =>
        localPart.Length is > 0 and <= MaxLocalPartLength
        && !localPart.ContainsAnyExcept(LocalPartCharacters)
        && localPart[0] != '.'
        && localPart[^1] != '.'
        && !localPart.Contains("..", StringComparison.Ordinal);

    private static bool IsHostName(string domain)
    {
        if (domain.Length > MaxDomainLength || !domain.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        var labels = domain.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-' || label.AsSpan().ContainsAnyExcept(DomainLabelCharacters))
            {
                return false;
            }
        }

        // No top-level domain is numeric; an all-digit one means a dotted IP address.
        return !labels[^1].All(char.IsAsciiDigit);
    }

    /// <summary>How a provider maps an address's local part to its mailbox.</summary>
    /// <param name="TagSeparator">What starts the ignored tag (<c>name+tag</c>, Yahoo's <c>base-keyword</c>).</param>
    /// <param name="IgnoresDots">Gmail delivers <c>j.o.e</c> to <c>joe</c>.</param>
    /// <param name="CanonicalDomain">Another domain of the same mailboxes (googlemail.com is gmail.com).</param>
    private sealed record MailboxRules(char TagSeparator, bool IgnoresDots = false, string? CanonicalDomain = null)
    {
        public string Mailbox(string localPart)
        {
            var tag = localPart.IndexOf(TagSeparator, StringComparison.Ordinal);
            var untagged = tag < 0 ? localPart : localPart[..tag];
            return IgnoresDots ? untagged.Replace(".", "", StringComparison.Ordinal) : untagged;
        }
    }

    private static FrozenDictionary<string, MailboxRules> BuildProviders()
    {
        string[] gmail = ["gmail.com", "googlemail.com"];
        string[] microsoft =
        [
            "outlook.com", "outlook.at", "outlook.be", "outlook.cl", "outlook.co.id", "outlook.co.il", "outlook.co.nz", "outlook.co.th",
            "outlook.com.ar", "outlook.com.au", "outlook.com.br", "outlook.com.gr", "outlook.com.pe", "outlook.com.tr", "outlook.com.vn",
            "outlook.cz", "outlook.de", "outlook.dk", "outlook.es", "outlook.fr", "outlook.hu", "outlook.ie", "outlook.in", "outlook.it",
            "outlook.jp", "outlook.kr", "outlook.lv", "outlook.my", "outlook.ph", "outlook.pt", "outlook.sa", "outlook.sg", "outlook.sk",
            "hotmail.com", "hotmail.at", "hotmail.be", "hotmail.ca", "hotmail.ch", "hotmail.cl", "hotmail.co.id", "hotmail.co.il",
            "hotmail.co.in", "hotmail.co.jp", "hotmail.co.kr", "hotmail.co.nz", "hotmail.co.th", "hotmail.co.uk", "hotmail.co.za",
            "hotmail.com.ar", "hotmail.com.au", "hotmail.com.br", "hotmail.com.hk", "hotmail.com.mx", "hotmail.com.tr", "hotmail.com.tw",
            "hotmail.com.vn", "hotmail.cz", "hotmail.de", "hotmail.dk", "hotmail.es", "hotmail.fi", "hotmail.fr", "hotmail.gr",
            "hotmail.hu", "hotmail.ie", "hotmail.it", "hotmail.jp", "hotmail.lt", "hotmail.lv", "hotmail.my", "hotmail.nl", "hotmail.no",
            "hotmail.ph", "hotmail.pt", "hotmail.rs", "hotmail.se", "hotmail.sg", "hotmail.sk",
            "live.com", "live.at", "live.be", "live.ca", "live.cl", "live.cn", "live.co.kr", "live.co.uk", "live.co.za", "live.com.ar",
            "live.com.au", "live.com.mx", "live.com.my", "live.com.pt", "live.com.sg", "live.de", "live.dk", "live.fi", "live.fr",
            "live.hk", "live.ie", "live.in", "live.it", "live.jp", "live.nl", "live.no", "live.ru", "live.se",
            "msn.com", "passport.com", "windowslive.com",
        ];
        string[] apple = ["icloud.com", "me.com", "mac.com"];
        string[] fastmail = ["fastmail.com", "fastmail.fm"];
        string[] proton = ["proton.me", "protonmail.com", "protonmail.ch", "pm.me"];
        string[] yahoo =
        [
            "yahoo.com", "yahoo.at", "yahoo.be", "yahoo.ca", "yahoo.ch", "yahoo.cl", "yahoo.co.id", "yahoo.co.in", "yahoo.co.jp",
            "yahoo.co.nz", "yahoo.co.th", "yahoo.co.uk", "yahoo.co.za", "yahoo.com.ar", "yahoo.com.au", "yahoo.com.br", "yahoo.com.co",
            "yahoo.com.hk", "yahoo.com.mx", "yahoo.com.my", "yahoo.com.pe", "yahoo.com.ph", "yahoo.com.sg", "yahoo.com.tr",
            "yahoo.com.tw", "yahoo.com.vn", "yahoo.de", "yahoo.dk", "yahoo.es", "yahoo.fi", "yahoo.fr", "yahoo.gr", "yahoo.ie",
            "yahoo.in", "yahoo.it", "yahoo.nl", "yahoo.no", "yahoo.pl", "yahoo.ro", "yahoo.se",
            "ymail.com", "rocketmail.com",
        ];

        // Yahoo's disposable addresses are base-keyword; a Yahoo user name cannot contain a hyphen, so the hyphen only ever starts a tag.
        var gmailRules = new MailboxRules('+', IgnoresDots: true, CanonicalDomain: "gmail.com");
        var plusRules = new MailboxRules('+');
        var hyphenRules = new MailboxRules('-');
        return gmail.Select(domain => KeyValuePair.Create(domain, gmailRules))
            .Concat(microsoft.Concat(apple).Concat(fastmail).Concat(proton).Select(domain => KeyValuePair.Create(domain, plusRules)))
            .Concat(yahoo.Select(domain => KeyValuePair.Create(domain, hyphenRules)))
            .ToFrozenDictionary(StringComparer.Ordinal);
    }
}
