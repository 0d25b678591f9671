using Apptork.Root.Features.Fraud;
using Apptork.Root.Tests.Infrastructure.Categories;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Fraud;

[Fast]
public sealed class EmailAddressesTests
{
    private static readonly string LongestLocalPart = new('a', EmailNormalizer.MaxLocalPartLength);
    private static readonly string LongestLabel = new('b', EmailNormalizer.MaxLabelLength);
    private static readonly string LongestAddress = $"{LongestLocalPart}@{LongestLabel}.{LongestLabel}.{new string('d', 57)}.com";

    /// <summary>Input, the address to mail to, and the canonical key accounts are unique on.</summary>
    public static TheoryData<string, string, string> Accepted => new()
    {
        // Case, spaces and trailing dots
        { "alice@example.com", "alice@example.com", "alice@example.com" },
        { "Alice.Smith@Example.COM", "Alice.Smith@example.com", "alice.smith@example.com" },
        { "  bob@example.com \t", "bob@example.com", "bob@example.com" },
        { "carol@example.com.", "carol@example.com", "carol@example.com" },
        { "o'brien_x!#$%&*/=?^`{|}~@example.ie", "o'brien_x!#$%&*/=?^`{|}~@example.ie", "o'brien_x!#$%&*/=?^`{|}~@example.ie" },

        // Gmail and Googlemail: dots and +tags ignored, one domain
        { "John.Doe@Gmail.com", "John.Doe@gmail.com", "johndoe@gmail.com" },
        { "j.o.h.n+promo@gmail.com", "j.o.h.n+promo@gmail.com", "john@gmail.com" },
        { "ab+x+y@gmail.com", "ab+x+y@gmail.com", "ab@gmail.com" },
        { "a.b+x@googlemail.com", "a.b+x@googlemail.com", "ab@gmail.com" },
        { "AB@GoogleMail.COM.", "AB@googlemail.com", "ab@gmail.com" },
        { "first-last@gmail.com", "first-last@gmail.com", "first-last@gmail.com" },

        // +tag providers: the tag goes, dots stay
        { "john+tag@outlook.com", "john+tag@outlook.com", "john@outlook.com" },
        { "John.Smith+x@Hotmail.co.uk", "John.Smith+x@hotmail.co.uk", "john.smith@hotmail.co.uk" },
        { "jean+promo@outlook.fr", "jean+promo@outlook.fr", "jean@outlook.fr" },
        { "maria+news@live.com.mx", "maria+news@live.com.mx", "maria@live.com.mx" },
        { "bob+x@msn.com", "bob+x@msn.com", "bob@msn.com" },
        { "tim+apps@icloud.com", "tim+apps@icloud.com", "tim@icloud.com" },
        { "tim+apps@me.com", "tim+apps@me.com", "tim@me.com" },
        { "steve+1@mac.com", "steve+1@mac.com", "steve@mac.com" },
        { "rob+lists@fastmail.com", "rob+lists@fastmail.com", "rob@fastmail.com" },
        { "rob+lists@fastmail.fm", "rob+lists@fastmail.fm", "rob@fastmail.fm" },
        { "p.q+shop@proton.me", "p.q+shop@proton.me", "p.q@proton.me" },
        { "p+q@protonmail.com", "p+q@protonmail.com", "p@protonmail.com" },
        { "p+q@protonmail.ch", "p+q@protonmail.ch", "p@protonmail.ch" },
        { "p+q@pm.me", "p+q@pm.me", "p@pm.me" },

        // Yahoo: base-keyword
        { "base-keyword@yahoo.com", "base-keyword@yahoo.com", "base@yahoo.com" },
        { "Base-Shop-2@Yahoo.co.uk", "Base-Shop-2@yahoo.co.uk", "base@yahoo.co.uk" },
        { "b-k@ymail.com", "b-k@ymail.com", "b@ymail.com" },
        { "b-k@rocketmail.com", "b-k@rocketmail.com", "b@rocketmail.com" },
        { "b-k@yahoo.co.jp", "b-k@yahoo.co.jp", "b@yahoo.co.jp" },

        // Must not be folded
        { "john.doe@outlook.com", "john.doe@outlook.com", "john.doe@outlook.com" },
        { "john+tag@example.com", "john+tag@example.com", "john+tag@example.com" },
        { "first-last@outlook.com", "first-last@outlook.com", "first-last@outlook.com" },
        { "first-last@example.org", "first-last@example.org", "first-last@example.org" },
        { "first.last+x@yahoo.com", "first.last+x@yahoo.com", "first.last+x@yahoo.com" },
        { "a.b+c@mail.gmail.com", "a.b+c@mail.gmail.com", "a.b+c@mail.gmail.com" },
        { "a.b+c@gmail.com.example.net", "a.b+c@gmail.com.example.net", "a.b+c@gmail.com.example.net" },
        { "a.b+c@notgmail.com", "a.b+c@notgmail.com", "a.b+c@notgmail.com" },
        { "x-y@hotmail.com", "x-y@hotmail.com", "x-y@hotmail.com" },

        // International domains become punycode
        { "user@Bücher.de", "user@xn--bcher-kva.de", "user@xn--bcher-kva.de" },
        { "user@xn--bcher-kva.de", "user@xn--bcher-kva.de", "user@xn--bcher-kva.de" },
        { "User@例え.jp", "User@xn--r8jz45g.jp", "user@xn--r8jz45g.jp" },
        { "user@münchen.de.", "user@xn--mnchen-3ya.de", "user@xn--mnchen-3ya.de" },
        { "user@example。com", "user@example.com", "user@example.com" },

        // Limits, at the limit
        { $"{LongestLocalPart}@example.com", $"{LongestLocalPart}@example.com", $"{LongestLocalPart}@example.com" },
        { $"x@{LongestLabel}.com", $"x@{LongestLabel}.com", $"x@{LongestLabel}.com" },
        { LongestAddress, LongestAddress, LongestAddress },
    };

    /// <summary>Input, and why it is malformed.</summary>
    public static TheoryData<string?, string> Refused => new()
    {
        { null, "nothing" },
        { "", "empty" },
        { "   ", "only spaces" },
        { "plainaddress", "no @" },
        { "@example.com", "empty local part" },
        { "user@", "empty domain" },
        { "user@@example.com", "two @" },
        { "a@b@example.com", "@ in the local part" },
        { "user name@example.com", "space in the local part" },
        { "user@exa mple.com", "space in the domain" },
        { "user@ example.com", "space after @" },
        { "user\t@example.com", "tab" },
        { "user@example.com\0", "control character" },
        { "us\ner@example.com", "line break" },
        { ".user@example.com", "leading dot" },
        { "user.@example.com", "trailing dot in the local part" },
        { "us..er@example.com", "two dots in a row" },
        { "\"john doe\"@example.com", "quoted local part" },
        { "\"john\"@example.com", "quoted local part without spaces" },
        { "josé@example.com", "non-ASCII local part" },
        { "user(comment)@example.com", "comment" },
        { "user@example", "no dot in the domain" },
        { "user@localhost", "single-label host" },
        { "user@[192.0.2.1]", "IPv4 literal" },
        { "user@[IPv6:2001:db8::1]", "IPv6 literal" },
        { "user@192.0.2.1", "bare IP address" },
        { "user@-example.com", "label starts with a hyphen" },
        { "user@example-.com", "label ends with a hyphen" },
        { "user@exa_mple.com", "underscore in the domain" },
        { "user@example..com", "empty label" },
        { "user@.example.com", "leading dot in the domain" },
        { "user@example.com..", "two trailing dots" },
        { "user@xn--zz.com", "invalid punycode" },
        { $"{LongestLocalPart}a@example.com", "local part of 65 characters" },
        { $"x@{LongestLabel}b.com", "label of 64 characters" },
        { $"{LongestLocalPart}@{LongestLabel}.{LongestLabel}.{new string('d', 58)}.com", "255 characters" },
        { $"x@{new string('c', 2000)}.com", "far too long" },
        { "+news@outlook.com", "nothing left of an Outlook mailbox once its tag is removed" },
        { "+x@gmail.com", "nothing left of a Gmail mailbox once its tag is removed" },
        { "-shop@yahoo.com", "nothing left of a Yahoo mailbox once its keyword is removed" },
    };

    [Theory, MemberData(nameof(Accepted))]
    public void Well_formed_addresses_are_cleaned_and_keyed_by_mailbox(string input, string address, string canonicalKey)
    {
        EmailNormalizer.TryNormalize(input, out var result).ShouldBeTrue();
        result.Address.ShouldBe(address);
        result.CanonicalKey.ShouldBe(canonicalKey);
        result.Domain.ShouldBe(address[(address.LastIndexOf('@') + 1)..]);
    }

    [Theory, MemberData(nameof(Refused))]
    public void Malformed_addresses_are_refused(string? input, string why)
    {
        EmailNormalizer.TryNormalize(input, out var result).ShouldBeFalse(why);
        result.ShouldBeNull();
    }

    [Fact]
    public void Tagged_googlemail_and_plain_gmail_are_the_same_person()
    {
        EmailNormalizer.TryNormalize("a.b+x@googlemail.com", out var tagged).ShouldBeTrue();
        EmailNormalizer.TryNormalize("ab@gmail.com", out var plain).ShouldBeTrue();
        tagged.CanonicalKey.ShouldBe(plain.CanonicalKey);
        tagged.Address.ShouldNotBe(plain.Address);
    }

    [Fact]
    public void An_address_that_outgrows_the_limit_once_its_domain_is_punycode_is_refused()
    {
        var unicodeDomain = string.Join('.', Enumerable.Repeat(new string('ü', 20), 7)) + ".de";
        var input = $"{LongestLocalPart}@{unicodeDomain}";
        input.Length.ShouldBeLessThan(EmailNormalizer.MaxAddressLength);

        EmailNormalizer.TryNormalizeDomain(unicodeDomain, out var domain).ShouldBeTrue();
        (LongestLocalPart.Length + 1 + domain.Length).ShouldBeGreaterThan(EmailNormalizer.MaxAddressLength);
        EmailNormalizer.TryNormalize(input, out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData(" Mailinator.COM. ", "mailinator.com")]
    [InlineData("sub.Bücher.de", "sub.xn--bcher-kva.de")]
    public void Domains_for_operator_rules_normalize_like_addresses(string input, string expected)
    {
        EmailNormalizer.TryNormalizeDomain(input, out var domain).ShouldBeTrue();
        domain.ShouldBe(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("com")]
    [InlineData("*.example.com")]
    [InlineData("user@example.com")]
    [InlineData("10.0.0.1")]
    public void Things_that_are_not_domains_are_refused_as_rule_domains(string input) =>
        EmailNormalizer.TryNormalizeDomain(input, out _).ShouldBeFalse();
}
