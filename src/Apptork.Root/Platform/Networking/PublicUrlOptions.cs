using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Networking;

/// <summary>
/// <c>Http__PublicBaseUrl=https://api.example.com</c>: the address clients reach this API at. Every absolute link the API
/// hands out (signed file links, stream links, the development checkout page) starts with it, never with the request's
/// <c>Host</c> header, which any client can set; and only its host is accepted in <c>Host</c>.
/// </summary>
public sealed class PublicUrlOptions
{
    public const string Section = "Http";

    /// <summary>Unset: the address this process listens on, in the embedded shape; the production shape requires it.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The setting as a URL; only valid settings reach a running process.</summary>
    public Uri? BaseUri => string.IsNullOrWhiteSpace(PublicBaseUrl) ? null : new Uri(PublicBaseUrl, UriKind.Absolute);
}

/// <summary>Refuses at start a public base URL that links could not be built from.</summary>
public sealed class PublicUrlSettingsValidator(RuntimeShape shape) : IValidateOptions<PublicUrlOptions>
{
    public ValidateOptionsResult Validate(string? name, PublicUrlOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.PublicBaseUrl))
        {
            return shape.IsProduction
                ? ValidateOptionsResult.Fail("Http__PublicBaseUrl is not set, and the production shape needs it: the URL clients reach this API at "
                    + "(e.g. https://api.example.com), which the links it hands out start with and the only host it answers to.")
                : ValidateOptionsResult.Success;
        }

        return Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var url)
            && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && string.IsNullOrEmpty(url.Query) && string.IsNullOrEmpty(url.Fragment)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Http__PublicBaseUrl is '{options.PublicBaseUrl}', not an absolute http(s) URL (e.g. https://api.example.com).");
    }
}
