using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// A provider's published signing keys (its JWKS), fetched over HTTP and cached. The set is fetched again when it is
/// older than <see cref="MaxAge"/>, or when a token names a key it lacks (the provider rotated), but never more than
/// once per <see cref="RefetchCooldown"/>: tokens with made-up key ids must not turn us into a request amplifier
/// against the provider, nor stall every sign-in on a fetch.
/// </summary>
public sealed partial class ProviderKeySet(string provider, Uri jwksUrl, IHttpClientFactory httpClients, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan RefetchCooldown = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(1);

    private readonly Lock gate = new();
    private volatile Snapshot? current;
    private DateTimeOffset lastAttempt = DateTimeOffset.MinValue;
    private Task fetching = Task.CompletedTask;

    /// <summary>The published key with this id, or null when the provider publishes none by that id.</summary>
    public async Task<JsonWebKey?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        if (current is { } snapshot && time.GetUtcNow() - snapshot.FetchedAt < MaxAge && snapshot.Find(keyId) is { } known)
        {
            return known;
        }

        await FetchWhenAllowed().WaitAsync(cancellationToken);

        // After a failed fetch the keys we had beat refusing everyone: providers publish keys well before signing with them.
        return current is { } latest ? latest.Find(keyId) : throw ProviderHttp.Unavailable();
    }

    /// <summary>Joins the fetch in flight, or starts one when the cooldown since the last attempt has passed.</summary>
    private Task FetchWhenAllowed()
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (fetching.IsCompleted && now - lastAttempt >= RefetchCooldown)
            {
                lastAttempt = now;
                fetching = FetchAsync(now);
            }

            return fetching;
        }
    }

    /// <summary>
    /// Not tied to the request that triggered it: one caller giving up must not fail the fetch for the others who
    /// joined it (the HTTP client's timeout bounds it). Never throws: a failure leaves the previous keys in place.
    /// </summary>
    private async Task FetchAsync(DateTimeOffset now)
    {
        try
        {
            using var http = httpClients.CreateClient(ProviderHttp.ClientName);
            using var response = await http.GetAsync(jwksUrl, CancellationToken.None);
            if (!response.IsSuccessStatusCode)
            {
                ProviderHttp.LogUnreachable(logger, provider, jwksUrl, $"HTTP {(int)response.StatusCode}");
                return;
            }

            var keys = new JsonWebKeySet(await response.Content.ReadAsStringAsync(CancellationToken.None)).Keys
                // Asymmetric signing keys only: a symmetric ("oct") key in a public document is a key everyone knows.
                .Where(key => key.Kty is JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve)
                .Where(key => (key.Use is null || key.Use == JsonWebKeyUseNames.Sig) && !string.IsNullOrEmpty(key.Kid))
                .GroupBy(key => key.Kid, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.First(), StringComparer.Ordinal);
            current = new Snapshot(keys, now);
            LogFetched(logger, keys.Count, provider);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or ArgumentException)
        {
            ProviderHttp.LogUnreachable(logger, provider, jwksUrl, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched {Count} signing keys of sign-in provider {Provider}")]
    private static partial void LogFetched(ILogger logger, int count, string provider);

    private sealed record Snapshot(IReadOnlyDictionary<string, JsonWebKey> Keys, DateTimeOffset FetchedAt)
    {
        public JsonWebKey? Find(string keyId) => Keys.GetValueOrDefault(keyId);
    }
}
