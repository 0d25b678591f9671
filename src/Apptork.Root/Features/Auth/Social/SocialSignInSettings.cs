using System.Security.Cryptography;
using Apptork.Root.Platform.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Reads the providers' settings once at start and refuses the ones that could only fail later, at a user's
/// sign-in, naming the setting the way an operator sets it.
/// </summary>
public static class SocialSignInSettings
{
    public static GoogleSignInOptions LoadGoogle(IConfiguration configuration, RuntimeShape shape)
    {
        var options = Bind<GoogleSignInOptions>(configuration, GoogleSignInOptions.Section);
        AddCommaSeparated(options.ClientIds, configuration, GoogleSignInOptions.Section);
        RequireProviderUrl(options.JwksUrl, "Auth__Google__JwksUrl", shape);
        RequireText(options.Issuer, "Auth__Google__Issuer");
        return options;
    }

    public static AppleSignInOptions LoadApple(IConfiguration configuration, RuntimeShape shape)
    {
        var options = Bind<AppleSignInOptions>(configuration, AppleSignInOptions.Section);
        AddCommaSeparated(options.ClientIds, configuration, AppleSignInOptions.Section);
        RequireProviderUrl(options.JwksUrl, "Auth__Apple__JwksUrl", shape);
        RequireProviderUrl(options.TokenUrl, "Auth__Apple__TokenUrl", shape);
        RequireProviderUrl(options.RevokeUrl, "Auth__Apple__RevokeUrl", shape);
        RequireText(options.Issuer, "Auth__Apple__Issuer");

        // The three go together: with only some of them every authorization code would fail at Apple.
        (string Setting, string? Value)[] codeExchange =
            [("Auth__Apple__TeamId", options.TeamId), ("Auth__Apple__KeyId", options.KeyId), ("Auth__Apple__PrivateKey", options.PrivateKey)];
        var given = codeExchange.Where(setting => !string.IsNullOrWhiteSpace(setting.Value)).ToArray();
        if (given.Length is > 0 and < 3)
        {
            var missing = codeExchange.First(setting => string.IsNullOrWhiteSpace(setting.Value)).Setting;
            throw new StartupConfigurationException(missing, $"is required with {given[0].Setting}: the team id, key id and .p8 private key sign the client secret of Apple's code exchange together.");
        }

        return options;
    }

    /// <summary>The key that signs Apple client secrets, or null when the code exchange is not configured.</summary>
    public static ECDsaSecurityKey? LoadAppleKey(AppleSignInOptions options, string contentRoot)
    {
        if (string.IsNullOrWhiteSpace(options.PrivateKey))
        {
            return null;
        }

        const string Setting = "Auth__Apple__PrivateKey";
        var value = options.PrivateKey;
        var pem = value.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal)
            ? value
            : File.Exists(Path.GetFullPath(value, contentRoot))
                ? File.ReadAllText(Path.GetFullPath(value, contentRoot))
                : throw new StartupConfigurationException(Setting, "is neither a PEM private key nor the path of an existing file.");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception exception) when (exception is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new StartupConfigurationException(Setting, "holds no EC private key in PEM; use the .p8 file Apple gave for Sign in with Apple.");
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new StartupConfigurationException(Setting, "is an EC key on another curve than P-256; Apple's .p8 keys are P-256 (ES256).");
        }

        return new ECDsaSecurityKey(key) { KeyId = options.KeyId };
    }

    public static GitHubSignInOptions LoadGitHub(IConfiguration configuration, RuntimeShape shape)
    {
        var options = Bind<GitHubSignInOptions>(configuration, GitHubSignInOptions.Section);
        RequireProviderUrl(options.TokenUrl, "Auth__GitHub__TokenUrl", shape);
        RequireProviderUrl(options.ApiUrl, "Auth__GitHub__ApiUrl", shape);
        var hasId = !string.IsNullOrWhiteSpace(options.ClientId);
        var hasSecret = !string.IsNullOrWhiteSpace(options.ClientSecret);
        if (hasId != hasSecret)
        {
            throw hasId
                ? new StartupConfigurationException("Auth__GitHub__ClientSecret", "is required with Auth__GitHub__ClientId: every code exchange would fail without it.")
                : new StartupConfigurationException("Auth__GitHub__ClientId", "is required with Auth__GitHub__ClientSecret: the secret belongs to an OAuth app's client id.");
        }

        return options;
    }

    private static TOptions Bind<TOptions>(IConfiguration configuration, string section)
        where TOptions : new() =>
        configuration.GetSection(section).Get<TOptions>() ?? new TOptions();

    /// <summary>
    /// <c>Auth__Google__ClientIds=ios-id,web-id</c> as well as <c>Auth__Google__ClientIds__0</c>, <c>__1</c>…: the
    /// binder silently ignores a plain value on a list, which would switch the provider off without a word.
    /// </summary>
    private static void AddCommaSeparated(IList<string> clientIds, IConfiguration configuration, string section)
    {
        foreach (var clientId in (configuration[$"{section}:ClientIds"] ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            clientIds.Add(clientId);
        }

        var cleaned = clientIds.Select(clientId => clientId.Trim()).Where(clientId => clientId.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        clientIds.Clear();
        foreach (var clientId in cleaned)
        {
            clientIds.Add(clientId);
        }
    }

    /// <summary>
    /// Keys and tokens come from these URLs: over plain HTTP anyone on the path could hand us their own signing key and
    /// sign in as anybody. Production therefore takes HTTPS only, except on loopback (a provider on the same host).
    /// </summary>
    private static void RequireProviderUrl(string value, string setting, RuntimeShape shape)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            throw new StartupConfigurationException(setting, $"is '{value}', not an absolute http(s) URL.");
        }

        if (shape.IsProduction && url.Scheme != Uri.UriSchemeHttps && !url.IsLoopback)
        {
            throw new StartupConfigurationException(setting, "must use https in the production shape (plain http is accepted only for a provider on loopback).");
        }
    }

    private static void RequireText(string value, string setting)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new StartupConfigurationException(setting, "must not be empty.");
        }
    }
}
