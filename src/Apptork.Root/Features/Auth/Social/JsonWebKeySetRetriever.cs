using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Reads a bare JWKS (what Google and Apple publish at their keys URL) into a configuration's signing keys; the
/// library's own retriever reads a discovery document, which names the JWKS rather than holding it.
/// <see cref="JsonWebKeySet.GetSigningKeys"/> keeps asymmetric signing keys only: a symmetric ("oct") key in a public
/// document is a key everyone knows.
/// </summary>
public sealed partial class JsonWebKeySetRetriever(string provider, ILogger logger, Action onFetch) : IConfigurationRetriever<OpenIdConnectConfiguration>
{
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
    {
        onFetch();
        var document = await retriever.GetDocumentAsync(address, cancel);
        JsonWebKeySet keys;
        try
        {
            keys = new JsonWebKeySet(document);
        }
        catch (ArgumentException exception)
        {
            ProviderHttp.LogUnreachable(logger, provider, new Uri(address), $"unreadable answer ({exception.Message})");
            throw;
        }

        var configuration = new OpenIdConnectConfiguration { JsonWebKeySet = keys };
        foreach (var key in keys.GetSigningKeys())
        {
            configuration.SigningKeys.Add(key);
        }

        LogFetched(logger, configuration.SigningKeys.Count, provider);
        return configuration;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched {Count} signing keys of sign-in provider {Provider}")]
    private static partial void LogFetched(ILogger logger, int count, string provider);
}
