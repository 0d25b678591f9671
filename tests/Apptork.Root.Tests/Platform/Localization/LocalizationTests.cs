using System.Collections;
using System.Globalization;
using System.Net;
using System.Resources;
using System.Text.RegularExpressions;
using Apptork.Root.Platform.Email;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Localization;

public sealed partial class LocalizationTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Every resource of static texts, with the keys it must have beyond those of its English file.</summary>
    private static readonly Dictionary<string, (ResourceManager Resources, IEnumerable<string> RequiredKeys)> StaticTexts = new()
    {
        ["ErrorMessages"] = (ErrorMessages.Resources, ErrorCatalog.All.Select(definition => definition.Code)),
        ["EmailTexts"] = (EmailTemplates.Texts, []),
        ["AdminTexts"] = (Apptork.Root.Admin.AdminTexts.Resources, []),
    };

    public static TheoryData<string, string> TextsAndLanguages => new(
        from texts in StaticTexts.Keys
        from culture in LocalizationSetup.SupportedCultures
        select (texts, culture.Name));

    [Theory, MemberData(nameof(TextsAndLanguages)), Fast]
    public void Every_static_text_has_its_own_translation_with_the_same_placeholders(string texts, string language)
    {
        var (resources, requiredKeys) = StaticTexts[texts];
        var culture = CultureInfo.GetCultureInfo(language);
        var english = resources.GetResourceSet(CultureInfo.InvariantCulture, createIfNotExists: true, tryParents: false)!;
        // The default language is the neutral file itself. For the others, tryParents: false, so an entry missing from
        // the language's own file is not hidden by the English fallback.
        var own = language == LocalizationSetup.SupportedCultures[0].Name
            ? english
            : resources.GetResourceSet(culture, createIfNotExists: true, tryParents: false)
                ?? throw new ShouldAssertException($"No {texts} resource set for {language}");
        var keys = english.Cast<DictionaryEntry>().Select(entry => (string)entry.Key).Union(requiredKeys).Order(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var key in keys)
        {
            var text = own.GetString(key);
            if (string.IsNullOrWhiteSpace(text))
            {
                missing.Add(key);
                continue;
            }

            Placeholders(text).ShouldBe(Placeholders(english.GetString(key)!), $"{texts}.{language}/{key}");
            if (language != "en")
            {
                text.ShouldNotBe(english.GetString(key), $"{texts}.{language}/{key} is still the English text");
            }
        }

        missing.ShouldBeEmpty($"{texts} keys without a {language} translation");
    }

    [Fact, Fast]
    public void Catalog_codes_are_unique_stable_snake_case()
    {
        ErrorCatalog.All.Select(definition => definition.Code).ShouldBeUnique();
        ErrorCatalog.All.ShouldAllBe(definition => SnakeCase().IsMatch(definition.Code));
    }

    [Theory]
    [InlineData("es", "es", "No encontrado.")]
    [InlineData("fr-CA", "fr", "Introuvable.")]
    [InlineData("de-AT,de;q=0.9", "de", "Nicht gefunden.")]
    [InlineData("pt-BR", "pt-BR", "Não encontrado.")]
    [InlineData("pt-PT", "pt-BR", "Não encontrado.")]
    [InlineData("ja, es;q=0.5", "es", "No encontrado.")]
    [InlineData("ja", "en", "Not found.")]
    [InlineData(null, "en", "Not found.")]
    public async Task Accept_language_picks_the_detail_language_with_parent_fallback(string? acceptLanguage, string contentLanguage, string detail)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite);
        using var response = await app.Client(acceptLanguage).GetAsync("/api/v1/nowhere", Cancel);
        var error = await ErrorAssert.SingleAsync(response, HttpStatusCode.NotFound, "client_error", "not_found");
        error.Detail.ShouldBe(detail);
        response.Content.Headers.ContentLanguage.ShouldBe([contentLanguage]);
    }

    private static string[] Placeholders(string text) =>
        Placeholder().Matches(text).Select(match => match.Value).Order(StringComparer.Ordinal).ToArray();

    [GeneratedRegex(@"\{[a-z_]+\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();
}
