using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Platform.Errors;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Json;

namespace Apptork.Root.Features.Purchases;

/// <summary>The service account's JSON key, read with Google's own library.</summary>
public static class GooglePlayCredentials
{
    public const string Scope = "https://www.googleapis.com/auth/androidpublisher";

    /// <summary>Null when the key reads; what is wrong with it otherwise.</summary>
    public static string? TryRead(string json, out string? tokenUri)
    {
        tokenUri = null;
        try
        {
            var key = NewtonsoftJsonSerializer.Instance.Deserialize<JsonCredentialParameters>(json);
            if (key?.Type != JsonCredentialParameters.ServiceAccountCredentialType)
            {
                return $"its type is '{key?.Type}', not service_account";
            }

            if (string.IsNullOrWhiteSpace(key.ClientEmail) || string.IsNullOrWhiteSpace(key.PrivateKey))
            {
                return "client_email or private_key is missing";
            }

            tokenUri = key.TokenUri ?? GoogleAuthConsts.OidcTokenUrl;
            return null;
        }
        catch (Exception exception) when (exception is Newtonsoft.Json.JsonException or ArgumentException)
        {
            return "not JSON";
        }
    }

    /// <summary>
    /// A credential that asks the key's <c>token_uri</c> for access tokens with the OAuth 2.0 JWT-bearer grant (an RS256
    /// assertion signed with the key), and keeps each token until shortly before it expires.
    /// </summary>
    public static ServiceAccountCredential Create(string json)
    {
        var key = NewtonsoftJsonSerializer.Instance.Deserialize<JsonCredentialParameters>(json);
        return new ServiceAccountCredential(new ServiceAccountCredential.Initializer(key.ClientEmail, key.TokenUri ?? GoogleAuthConsts.OidcTokenUrl)
        {
            Scopes = [Scope],
            KeyId = key.PrivateKeyId,
        }.FromPrivateKey(key.PrivateKey));
    }
}

/// <summary>A one-time product purchase as <c>purchases.products.get</c> answers it (Google writes 64-bit numbers as strings).</summary>
public sealed record GooglePlayPurchase(
    string? OrderId,
    int? PurchaseState,
    int? ConsumptionState,
    int? PurchaseType,
    string? ObfuscatedExternalAccountId,
    string? ProductId,
    int? Quantity,
    string? PurchaseTimeMillis)
{
    public const int Purchased = 0;
    public const int Canceled = 1;
    public const int Pending = 2;
    public const int Consumed = 1;

    /// <summary>License testers' purchases are of type 0; real ones have none.</summary>
    public bool IsTest => PurchaseType == 0;
}

public sealed record GooglePlayVoidedPurchase(string? PurchaseToken, string? OrderId, string? VoidedTimeMillis);

/// <summary>
/// The Google Play Developer API (Android Publisher v3), the three calls purchases need, over HttpClient: Google's
/// generated Android Publisher client library is not served here, and these are three plain REST calls. A purchase
/// Google does not know answers <c>invalid_purchase_token</c>; Google unreachable, failing, or refusing our own
/// credentials answers 503 with a retry hint, since the app can send the same purchase again later.
/// </summary>
public sealed partial class GooglePlayApi(GooglePlaySettings settings, IHttpClientFactory httpClients, ILogger<GooglePlayApi> logger)
{
    public const string HttpClientName = "google-play";

    public const string PurchaseTokenField = "purchase_token";

    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<GooglePlayPurchase> GetPurchaseAsync(string productId, string purchaseToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, TokenUrl(productId, purchaseToken, action: null));
        return await SendAsync<GooglePlayPurchase>(request, cancellationToken)
            ?? throw ErrorCatalog.InvalidPurchaseToken.ToException(PurchaseTokenField);
    }

    /// <summary>Consumed, so the user can buy the product again; Google answers an already consumed purchase with an error, which is ignored.</summary>
    public async Task ConsumeAsync(string productId, string purchaseToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, TokenUrl(productId, purchaseToken, action: ":consume"));
        await SendAsync<JsonElement?>(request, cancellationToken);
    }

    /// <summary>Purchases voided (refunded, charged back, cancelled) since <paramref name="since"/>, every page.</summary>
    public async Task<IReadOnlyList<GooglePlayVoidedPurchase>> ListVoidedAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var voided = new List<GooglePlayVoidedPurchase>();
        string? page = null;
        do
        {
            var query = $"startTime={since.ToUnixTimeMilliseconds()}&maxResults=1000" + (page is null ? string.Empty : $"&token={Uri.EscapeDataString(page)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{AppUrl}/purchases/voidedpurchases?{query}");
            var answer = await SendAsync<VoidedPage>(request, cancellationToken);
            voided.AddRange(answer?.VoidedPurchases ?? []);
            page = answer?.TokenPagination?.NextPageToken;
        }
        while (page is { Length: > 0 });

        return voided;
    }

    private string AppUrl => $"{settings.ApiBase.TrimEnd('/')}/androidpublisher/v3/applications/{Uri.EscapeDataString(settings.PackageName)}";

    private string TokenUrl(string productId, string purchaseToken, string? action) =>
        $"{AppUrl}/purchases/products/{Uri.EscapeDataString(productId)}/tokens/{Uri.EscapeDataString(purchaseToken)}{action}";

    /// <summary>The answer; null when Google does not know the purchase (400, 404, 410).</summary>
    private async Task<T?> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            var token = await settings.Credential.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var http = httpClients.CreateClient(HttpClientName);
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (TokenResponseException exception)
        {
            LogCredentialsRefused(logger, exception.Error?.Error, exception.Error?.ErrorDescription);
            throw Unavailable();
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogUnreachable(logger, request.RequestUri?.AbsolutePath, exception.Message);
            throw Unavailable();
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Gone:
                    return default;
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    LogCredentialsRefused(logger, $"HTTP {(int)response.StatusCode}", await response.Content.ReadAsStringAsync(cancellationToken));
                    throw Unavailable();
                case var status when !response.IsSuccessStatusCode:
                    LogUnreachable(logger, request.RequestUri?.AbsolutePath, $"HTTP {(int)status}");
                    throw Unavailable();
            }

            if (response.Content.Headers.ContentLength == 0 || response.StatusCode == HttpStatusCode.NoContent)
            {
                return default;
            }

            try
            {
                return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
            }
            catch (JsonException exception)
            {
                LogUnreachable(logger, request.RequestUri?.AbsolutePath, $"unreadable answer ({exception.Message})");
                throw Unavailable();
            }
        }
    }

    private static ApiException Unavailable() => new([ErrorCatalog.ServiceUnavailable.At(null)], RetryAfter);

    private sealed record VoidedPage(List<GooglePlayVoidedPurchase>? VoidedPurchases, TokenPage? TokenPagination);

    private sealed record TokenPage(string? NextPageToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "Google refused the service account of Purchases__Google__ServiceAccountKey ({Error}: {Description}): check its key and its access in Play Console")]
    private static partial void LogCredentialsRefused(ILogger logger, string? error, string? description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Google Play Developer API did not answer {Path}: {Problem}")]
    private static partial void LogUnreachable(ILogger logger, string? path, string problem);
}
