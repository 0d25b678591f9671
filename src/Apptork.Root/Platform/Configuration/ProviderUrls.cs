namespace Apptork.Root.Platform.Configuration;

/// <summary>
/// The rule for every setting that points at an outside provider (an API, a token endpoint, published keys): an absolute
/// http(s) URL, and https in the production shape except on loopback, since over plain http anyone on the path could
/// answer as the provider.
/// </summary>
public static class ProviderUrls
{
    /// <summary>Adds to <paramref name="failures"/> what is wrong with <paramref name="value"/>, worded with the setting's name.</summary>
    public static void Check(string setting, string? value, RuntimeShape shape, List<string> failures)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{setting} is '{value}', not an absolute http(s) URL.");
        }
        else if (shape.IsProduction && url.Scheme != Uri.UriSchemeHttps && !url.IsLoopback)
        {
            failures.Add($"{setting} must use https in the production shape (plain http is accepted only on loopback).");
        }
    }
}
