using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace Apptork.Root.Platform.Localization;

public static class LocalizationSetup
{
    /// <summary>The languages every static text exists in; the first is the default.</summary>
    public static IReadOnlyList<CultureInfo> SupportedCultures { get; } =
        new[] { "en", "es", "fr", "de", "pt-BR" }.Select(CultureInfo.GetCultureInfo).ToArray();

    public static IServiceCollection AddRootLocalization(this IServiceCollection services) =>
        services.AddScoped<Translations>().Configure<RequestLocalizationOptions>(options =>
        {
            options.DefaultRequestCulture = new RequestCulture(SupportedCultures[0]);
            options.SupportedCultures = SupportedCultures.ToList();
            options.SupportedUICultures = SupportedCultures.ToList();
            options.FallBackToParentCultures = true;
            options.FallBackToParentUICultures = true;
            options.ApplyCurrentCultureToResponseHeaders = true;
            // Only the client's own header decides: no query-string or cookie switching for an API.
            options.RequestCultureProviders = [new PortugueseAwareAcceptLanguageProvider()];
        });

    /// <summary>
    /// Accept-Language with one addition: plain <c>pt</c> (and <c>pt-PT</c>, ...) is served in the one Portuguese
    /// we have, pt-BR, rather than falling to English: parent fallback only walks from a child to its parent.
    /// </summary>
    private sealed class PortugueseAwareAcceptLanguageProvider : AcceptLanguageHeaderRequestCultureProvider
    {
        public override async Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
        {
            var result = await base.DetermineProviderCultureResult(httpContext);
            if (result is null)
            {
                return null;
            }

            var cultures = result.UICultures
                .Select(culture => culture.Value ?? string.Empty)
                .Select(culture => culture.StartsWith("pt", StringComparison.OrdinalIgnoreCase) ? "pt-BR" : culture)
                .Select(culture => new Microsoft.Extensions.Primitives.StringSegment(culture))
                .ToList();
            return new ProviderCultureResult(cultures, cultures);
        }
    }
}
