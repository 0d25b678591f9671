using Microsoft.IdentityModel.Protocols;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Fetches a provider's document through the providers' HTTP client (<see cref="ProviderHttp.ClientName"/>: its
/// timeout and headers). Written here because the library's <see cref="HttpDocumentRetriever"/> would hold one client
/// for the application's life, which keeps the factory from rotating its handlers (and so from seeing DNS changes).
/// </summary>
public sealed class ProviderDocumentRetriever(string provider, IHttpClientFactory httpClients, ILogger logger) : IDocumentRetriever
{
    /// <summary>Not tied to the caller's request: the configuration manager shares one fetch among all who wait for it.</summary>
    public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
    {
        var url = new Uri(address);
        try
        {
            using var http = httpClients.CreateClient(ProviderHttp.ClientName);
            return await http.GetStringAsync(url, cancel);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            ProviderHttp.LogUnreachable(logger, provider, url, exception.Message);
            throw;
        }
    }
}
