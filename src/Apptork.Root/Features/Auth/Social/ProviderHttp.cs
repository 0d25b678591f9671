using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Platform.Errors;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Calls to the sign-in providers. A provider that refuses (4xx) refuses the client's credential: <c>invalid_id_token</c>
/// at the field that carried it. A provider that cannot answer (unreachable, timeout, 5xx, garbage) is not the
/// client's fault: <c>service_unavailable</c>, so an app retries instead of throwing its sign-in away.
/// </summary>
public static partial class ProviderHttp
{
    /// <summary>The <see cref="IHttpClientFactory"/> client for every provider call.</summary>
    public const string ClientName = "auth-providers";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>OAuth and GitHub JSON is snake_case.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<T> SendAsync<T>(
        IHttpClientFactory httpClients, HttpRequestMessage request, string provider, string attr, ILogger logger, CancellationToken cancellationToken)
        where T : class
    {
        using var http = httpClients.CreateClient(ClientName);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogUnreachable(logger, provider, request.RequestUri, exception.Message);
            throw Unavailable();
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is >= 400 and < 500)
            {
                LogRefused(logger, provider, request.RequestUri, status);
                throw Refused(attr);
            }

            if (!response.IsSuccessStatusCode)
            {
                LogUnreachable(logger, provider, request.RequestUri, $"HTTP {status}");
                throw Unavailable();
            }

            try
            {
                return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken) ?? throw new JsonException("null");
            }
            catch (JsonException exception)
            {
                LogUnreachable(logger, provider, request.RequestUri, $"unreadable answer ({exception.Message})");
                throw Unavailable();
            }
        }
    }

    /// <summary>The provider did not accept the credential in <paramref name="attr"/>.</summary>
    public static ApiException Refused(string attr) => ErrorCatalog.InvalidIdToken.ToException(attr);

    public static ApiException Unavailable() => ErrorCatalog.ServiceUnavailable.ToException();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in provider {Provider} did not answer {Url}: {Problem}")]
    public static partial void LogUnreachable(ILogger logger, string provider, Uri? url, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-in provider {Provider} refused a credential at {Url} (HTTP {Status})")]
    private static partial void LogRefused(ILogger logger, string provider, Uri? url, int status);
}
