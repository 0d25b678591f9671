using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// A provider's published signing keys (its JWKS), kept by IdentityModel's <see cref="ConfigurationManager{T}"/>:
/// fetched on first use, again after <see cref="MaxAge"/>, and when a token names a key the set lacks (the provider
/// rotated), but never more than once per <see cref="RefetchCooldown"/>: tokens with made-up key ids must not turn us
/// into a request amplifier against the provider. After a failed fetch the keys we had stay in use: providers publish
/// keys well before signing with them.
/// </summary>
/// <remarks>
/// A requested refresh is fetched before the request that asked for it retries, so the first token signed with a
/// rotated key is accepted, because Directory.Build.props turns on the library's process-wide
/// <c>Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking</c>; the library's default fetches in the background.
/// </remarks>
public sealed class ProviderSigningKeys
{
    public static readonly TimeSpan RefetchCooldown = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(1);

    private readonly ConfigurationManager<OpenIdConnectConfiguration> configurations;
    private readonly TimeProvider time;
    private long lastFetchTicks;

    public ProviderSigningKeys(string provider, Uri jwksUrl, IHttpClientFactory httpClients, TimeProvider time, ILogger logger)
    {
        this.time = time;
        configurations = new ConfigurationManager<OpenIdConnectConfiguration>(
            jwksUrl.AbsoluteUri,
            new JsonWebKeySetRetriever(provider, logger, RecordFetch),
            new ProviderDocumentRetriever(provider, httpClients, logger))
        {
            AutomaticRefreshInterval = MaxAge,
            // Also how long the library waits before fetching again after a failed fetch.
            RefreshInterval = RefetchCooldown,
        };
    }

    /// <summary>The published key with this id, or null when the provider publishes none by that id.</summary>
    public async Task<SecurityKey?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var known = Find(await CurrentAsync(cancellationToken), keyId);
        if (known is not null || !CooldownPassed())
        {
            return known;
        }

        configurations.RequestRefresh();
        return Find(await CurrentAsync(cancellationToken), keyId);
    }

    private async Task<OpenIdConnectConfiguration> CurrentAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await configurations.GetConfigurationAsync(cancellationToken);
        }
        catch (InvalidOperationException)
        {
            // No keys fetched yet and the provider did not answer (the fetch logged why).
            throw ProviderHttp.Unavailable();
        }
    }

    private static SecurityKey? Find(OpenIdConnectConfiguration configuration, string keyId) =>
        configuration.SigningKeys.FirstOrDefault(key => string.Equals(key.KeyId, keyId, StringComparison.Ordinal));

    /// <summary>
    /// Timed here, on the injected clock, because the library times its own refresh interval on the system clock and
    /// grants the first requested refresh however soon it follows the first fetch.
    /// </summary>
    private bool CooldownPassed() => time.GetUtcNow().UtcTicks - Interlocked.Read(ref lastFetchTicks) >= RefetchCooldown.Ticks;

    private void RecordFetch() => Interlocked.Exchange(ref lastFetchTicks, time.GetUtcNow().UtcTicks);
}
