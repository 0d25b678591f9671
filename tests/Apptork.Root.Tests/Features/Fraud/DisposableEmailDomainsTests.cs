using Apptork.Root.Features.Fraud;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Fraud;

[Fast]
public sealed class DisposableEmailDomainsTests
{
    private static DisposableEmailDomains Shipped => DisposableEmailDomains.Shipped;

    public static TheoryData<string> DisposableAddresses => new(
        "someone@mailinator.com",
        "someone@inbox.mailinator.com",
        "Someone@MAILINATOR.COM.",
        "someone@guerrillamail.com",
        "someone@a.b.guerrillamail.com",
        "someone@sharklasers.com",
        "someone@grr.la",
        "someone@10minutemail.com",
        "someone@yopmail.com",
        "someone@yopmail.fr",
        "someone@temp-mail.org",
        "someone@trashmail.com",
        "someone@maildrop.cc",
        "someone@getnada.com",
        "someone@dispostable.com",
        "someone@throwawaymail.com",
        "someone@mailnesia.com",
        "someone@fakeinbox.com",
        "someone@spamgourmet.com",
        "someone@mytemp.email",
        "someone@tempr.email",
        "someone@alias.33mail.com",
        "someone@discard.email");

    public static TheoryData<string> RealProviderAddresses => new(
        "someone@gmail.com",
        "someone@googlemail.com",
        "someone@outlook.com",
        "someone@hotmail.com",
        "someone@live.com",
        "someone@yahoo.com",
        "someone@icloud.com",
        "someone@me.com",
        "someone@proton.me",
        "someone@protonmail.com",
        "someone@fastmail.com",
        "someone@aol.com",
        "someone@zoho.com",
        "someone@gmx.de",
        "someone@gmx.net",
        "someone@web.de",
        "someone@t-online.de",
        "someone@orange.fr",
        "someone@free.fr",
        "someone@laposte.net",
        "someone@libero.it",
        "someone@yandex.ru",
        "someone@mail.ru",
        "someone@qq.com",
        "someone@163.com",
        "someone@naver.com",
        "someone@seznam.cz",
        "someone@wp.pl");

    [Theory, MemberData(nameof(DisposableAddresses))]
    public void Known_disposable_domains_and_their_subdomains_are_disposable(string address)
    {
        EmailNormalizer.TryNormalize(address, out var email).ShouldBeTrue();
        Shipped.IsDisposable(email.Domain).ShouldBeTrue();
    }

    [Theory, MemberData(nameof(RealProviderAddresses))]
    public void Major_real_providers_are_not_disposable(string address)
    {
        EmailNormalizer.TryNormalize(address, out var email).ShouldBeTrue();
        Shipped.IsDisposable(email.Domain).ShouldBeFalse();
    }

    [Fact]
    public void The_shipped_list_has_the_whole_vendored_file_in_normalized_form()
    {
        var vendored = Path.Combine(ServerHost.FindRepositoryRoot(), "src", "Apptork.Root", "Features", "Fraud", "Data", "disposable-email-domains.txt");
        var lines = File.ReadAllLines(vendored)
            .Where(line => !line.StartsWith('#'))
            .ToArray();

        lines.Length.ShouldBeGreaterThan(100_000);
        Shipped.Count.ShouldBe(lines.Length);
        lines.ShouldBeUnique();
        var notNormalized = lines.Where(line => !EmailNormalizer.TryNormalizeDomain(line, out var domain) || domain != line).Take(5).ToArray();
        notNormalized.ShouldBeEmpty("lines that are not lower-case punycode domains");
        lines.ShouldAllBe(line => Shipped.IsDisposable(line));
    }

    [Fact]
    public void Parents_match_at_label_boundaries_only()
    {
        var list = DisposableEmailDomains.Parse("# a comment\n\nthrowaway.test\r\nsub.tempinbox.test\n"u8);

        list.Count.ShouldBe(2);
        list.IsDisposable("throwaway.test").ShouldBeTrue();
        list.IsDisposable("x.y.throwaway.test").ShouldBeTrue();
        list.IsDisposable("notthrowaway.test").ShouldBeFalse();
        list.IsDisposable("throwaway.test.example").ShouldBeFalse();
        list.IsDisposable("a.sub.tempinbox.test").ShouldBeTrue();
        list.IsDisposable("tempinbox.test").ShouldBeFalse("a listed subdomain does not make its parent disposable");
        list.IsDisposable("test").ShouldBeFalse();
    }
}
