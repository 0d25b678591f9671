using System.Globalization;
using Apptork.Root.Platform.Email;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Tests.Infrastructure.Categories;
using Microsoft.Extensions.Options;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Email;

[Fast]
public sealed class EmailTemplatesTests
{
    private static readonly EmailTemplates Templates = new(Options.Create(new EmailOptions()));
    private static readonly DateTimeOffset LockedUntil = new(2026, 11, 25, 15, 30, 0, TimeSpan.FromHours(1));

    public static TheoryData<string> Languages => new(LocalizationSetup.SupportedCultures.Select(culture => culture.Name));

    [Theory, MemberData(nameof(Languages))]
    public void Every_email_renders_in_every_language_with_every_placeholder_filled(string language)
    {
        var culture = CultureInfo.GetCultureInfo(language);
        var english = CultureInfo.GetCultureInfo("en");
        (EmailMessage Own, EmailMessage English)[] messages =
        [
            (Templates.SignInCode("to@example.com", "123456", TimeSpan.FromMinutes(10), culture), Templates.SignInCode("to@example.com", "123456", TimeSpan.FromMinutes(10), english)),
            (Templates.EmailChanged("old@example.com", "new@example.com", culture), Templates.EmailChanged("old@example.com", "new@example.com", english)),
            (Templates.SignInLocked("to@example.com", LockedUntil, culture), Templates.SignInLocked("to@example.com", LockedUntil, english)),
            (Templates.SignInCodesPaused("to@example.com", LockedUntil, culture), Templates.SignInCodesPaused("to@example.com", LockedUntil, english)),
        ];

        foreach (var (own, inEnglish) in messages)
        {
            foreach (var text in new[] { own.Subject, own.TextBody, own.HtmlBody })
            {
                text.ShouldNotContain("{", customMessage: $"{language}: a placeholder was left unfilled");
            }

            own.Subject.ShouldContain("Apptork Root");
            own.HtmlBody.ShouldContain($"<html lang=\"{language}\">");
            if (language != "en")
            {
                own.Subject.ShouldNotBe(inEnglish.Subject);
                own.TextBody.ShouldNotBe(inEnglish.TextBody);
            }
        }

        messages[0].Own.TextBody.ShouldContain("\n123456\n");
        messages[0].Own.TextBody.ShouldContain("10");
        messages[1].Own.TextBody.ShouldContain("new@example.com");
        messages[1].Own.To.ShouldBe("old@example.com");
        messages[2].Own.TextBody.ShouldContain("2026");
        messages[2].Own.TextBody.ShouldContain(" UTC");
        messages[3].Own.TextBody.ShouldContain("2026");
        messages[3].Own.TextBody.ShouldContain(" UTC");
    }

    [Fact]
    public void The_lock_end_is_said_in_UTC_in_the_recipients_language()
    {
        var message = Templates.SignInLocked("to@example.com", LockedUntil, CultureInfo.GetCultureInfo("es"));

        message.TextBody.ShouldContain("bloqueado hasta el miércoles, 25 de noviembre de 2026 14:30 UTC.", customMessage: "15:30 at +01:00 is 14:30 UTC");
    }

    [Fact]
    public void Inserted_values_are_html_encoded_in_the_html_body_and_verbatim_in_the_text_body()
    {
        // A quoted local part may hold markup and still be a valid address.
        const string hostile = "\"<script>alert('x')</script>\"@example.com";

        var message = Templates.EmailChanged("old@example.com", hostile, CultureInfo.GetCultureInfo("en"));

        message.TextBody.ShouldContain($"was changed to {hostile}.");
        message.HtmlBody.ShouldNotContain("<script>");
        message.HtmlBody.ShouldContain("was changed to &quot;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;@example.com.");
    }

    [Fact]
    public void The_app_name_is_the_display_name_of_the_sender_or_its_domain()
    {
        var named = new EmailTemplates(Options.Create(new EmailOptions { From = "Acme Notes <hello@acme.test>" }));
        var unnamed = new EmailTemplates(Options.Create(new EmailOptions { From = "hello@acme.test" }));

        named.SignInCode("to@example.com", "1", TimeSpan.FromMinutes(10), CultureInfo.InvariantCulture).Subject.ShouldBe("Your Acme Notes sign-in code");
        unnamed.SignInCode("to@example.com", "1", TimeSpan.FromMinutes(10), CultureInfo.InvariantCulture).Subject.ShouldBe("Your acme.test sign-in code");
    }

    [Theory]
    [InlineData("es-MX", "es")]
    [InlineData("fr-CA", "fr")]
    [InlineData("de-AT", "de")]
    [InlineData("pt-BR", "pt-BR")]
    [InlineData("pt-PT", "pt-BR")]
    [InlineData("pt", "pt-BR")]
    [InlineData("en-GB", "en")]
    [InlineData("ja", "en")]
    [InlineData("", "en")]
    public void A_culture_gets_its_nearest_supported_language(string culture, string expected)
    {
        var message = Templates.SignInCode("to@example.com", "123456", TimeSpan.FromMinutes(10), CultureInfo.GetCultureInfo(culture));

        message.HtmlBody.ShouldContain($"<html lang=\"{expected}\">");
        message.Subject.ShouldBe(Templates.SignInCode("to@example.com", "123456", TimeSpan.FromMinutes(10), CultureInfo.GetCultureInfo(expected)).Subject);
    }

    [Fact]
    public void A_message_printed_by_accident_shows_neither_its_bodies_nor_the_whole_address()
    {
        var message = Templates.SignInCode("jane.doe@example.com", "918273", TimeSpan.FromMinutes(10), CultureInfo.GetCultureInfo("en"));

        message.ToString().ShouldBe("Email to j***@example.com: Your Apptork Root sign-in code");
    }
}
