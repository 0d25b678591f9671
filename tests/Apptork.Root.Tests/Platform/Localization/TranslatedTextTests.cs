using System.Globalization;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Validation;
using Apptork.Root.Tests.Infrastructure.Categories;
using FluentValidation;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Localization;

/// <summary>The one mechanism for texts operators write in several languages: its fallback chain and its validation.</summary>
[Fast]
public sealed class TranslatedTextTests
{
    [Theory]
    [InlineData("pt-BR", "en,pt-BR,pt", "pt-BR")]
    [InlineData("pt-BR", "en,pt", "pt")]
    [InlineData("pt-BR", "en", "en")]
    [InlineData("fr-CA", "en,fr", "fr")]
    [InlineData("ja", "en,fr", "en")]
    [InlineData("de", "EN,De", "De")]
    public void A_text_is_read_in_the_nearest_language_it_has(string requested, string stored, string expected)
    {
        var text = new TranslatedText(stored.Split(',').ToDictionary(language => language, language => $"text in {language}"));
        text.In(CultureInfo.GetCultureInfo(requested)).ShouldBe(($"text in {expected}", expected));
    }

    [Fact]
    public void A_valid_text_passes()
    {
        Validate(new Dictionary<string, string?> { ["en"] = "Maintenance tonight", ["pt"] = "Manutenção à noite", ["pt-BR"] = "Manutenção\nhoje" })
            .ShouldBeEmpty();
    }

    [Fact]
    public void Each_bad_language_is_refused_at_its_own_path()
    {
        var errors = Validate(new Dictionary<string, string?>
        {
            ["pt-BR"] = "Olá",
            ["xx"] = "?",
            ["fr"] = " ",
            ["de"] = new string('a', 21),
            ["es"] = "hola\u202Eevil",
        });
        errors.ShouldBe(
        [
            (ErrorCatalog.Required.Code, "title.en"),
            (ErrorCatalog.InvalidChoice.Code, "title.xx"),
            (ErrorCatalog.Blank.Code, "title.fr"),
            (ErrorCatalog.MaxLength.Code, "title.de"),
            (ErrorCatalog.ControlCharacters.Code, "title.es"),
        ], ignoreOrder: true);
    }

    private static List<(string Code, string? Attr)> Validate(Dictionary<string, string?> title) =>
        new TitleValidator().Validate(new Body(title)).Errors
            .Select(failure => ValidationFilter<Body>.ToApiError(failure))
            .Select(error => (error.Definition.Code, error.Attr))
            .ToList();

    private sealed record Body(IReadOnlyDictionary<string, string?>? Title);

    private sealed class TitleValidator : AbstractValidator<Body>
    {
        public TitleValidator() => RuleFor(body => body.Title).Translated(maxLength: 20);
    }
}
