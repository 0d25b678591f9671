using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Tests.Features.Auth.Social;

/// <summary>
/// Google, Apple and GitHub as the application meets them: one local Kestrel server speaking their protocols (JWKS,
/// Apple's token and revoke endpoints with ES256 client secrets, GitHub's OAuth exchange and REST API) with keys this
/// test owns. The application reaches it through its ordinary settings and runs its real code against it.
/// </summary>
public sealed class LocalProviders : IAsyncDisposable
{
    public const string GoogleIosClientId = "1234-ios.apps.googleusercontent.com";
    public const string GoogleWebClientId = "1234-web.apps.googleusercontent.com";
    public const string GoogleIssuer = "https://accounts.google.com";
    public const string AppleClientId = "com.apptork.app";
    public const string AppleIssuer = "https://appleid.apple.com";
    public const string AppleTeamId = "TEAM4APPLE";
    public const string AppleKeyId = "KEY4APPLE1";
    public const string GitHubClientId = "Iv1.apptork-test";

    private readonly WebApplication host;
    private readonly ECDsa appleP8 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ConcurrentDictionary<string, AppleAuthorization> appleCodes = new();
    private readonly ConcurrentDictionary<string, GitHubAccount> gitHubCodes = new();
    private readonly ConcurrentDictionary<string, (GitHubAccount Account, string ClientId)> gitHubTokens = new();

    private LocalProviders()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        host = builder.Build();
        MapGoogle();
        MapApple();
        MapGitHub();
    }

    public ProviderKeys Google { get; } = new();

    public ProviderKeys Apple { get; } = new();

    /// <summary>The .p8 key Apple would give the developer: its PEM goes into <c>Auth__Apple__PrivateKey</c>.</summary>
    public string AppleP8Pem => appleP8.ExportPkcs8PrivateKeyPem();

    public string GitHubClientSecret { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public ConcurrentQueue<string> AppleRefreshTokensIssued { get; } = new();

    /// <summary>Refresh tokens revoked with a valid client secret, with the client id they were revoked for.</summary>
    public ConcurrentQueue<(string ClientId, string Token)> AppleRevocations { get; } = new();

    /// <summary>When set, Apple's revoke endpoint answers 503, as during an outage.</summary>
    public bool AppleRevokeIsDown { get; set; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The application's settings for all three providers: Google's client ids comma-separated, Apple's as a list.</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Auth:Google:ClientIds"] = $"{GoogleWebClientId}, {GoogleIosClientId}",
        ["Auth:Google:JwksUrl"] = Url("google/jwks"),
        ["Auth:Apple:ClientIds:0"] = AppleClientId,
        ["Auth:Apple:JwksUrl"] = Url("apple/jwks"),
        ["Auth:Apple:TokenUrl"] = Url("apple/token"),
        ["Auth:Apple:RevokeUrl"] = Url("apple/revoke"),
        ["Auth:Apple:TeamId"] = AppleTeamId,
        ["Auth:Apple:KeyId"] = AppleKeyId,
        ["Auth:Apple:PrivateKey"] = AppleP8Pem,
        ["Auth:GitHub:ClientId"] = GitHubClientId,
        ["Auth:GitHub:ClientSecret"] = GitHubClientSecret,
        ["Auth:GitHub:TokenUrl"] = Url("github/login/oauth/access_token"),
        ["Auth:GitHub:ApiUrl"] = Url("github/api"),
    };

    public static async Task<LocalProviders> StartAsync()
    {
        var providers = new LocalProviders();
        await providers.host.StartAsync();
        providers.BaseAddress = new Uri(providers.host.Urls.Single() + "/");
        return providers;
    }

    /// <summary>An ID token as Google signs it; <paramref name="change"/> bends it into a forgery.</summary>
    public string GoogleIdToken(
        string subject, string? email, bool emailVerified = true, string? hostedDomain = null, string? name = null,
        DateTimeOffset? now = null, Action<SecurityTokenDescriptor>? change = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["email_verified"] = emailVerified, ["azp"] = GoogleIosClientId };
        AddIfSet(claims, "email", email);
        AddIfSet(claims, "hd", hostedDomain);
        AddIfSet(claims, "name", name);
        return Sign(Google.Credentials, GoogleIssuer, GoogleIosClientId, claims, now, change);
    }

    /// <summary>An ID token as Apple signs it: its booleans are the strings "true" and "false".</summary>
    public string AppleIdToken(string subject, string? email, string emailVerified = "true", DateTimeOffset? now = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["email_verified"] = emailVerified };
        AddIfSet(claims, "email", email);
        if (email?.EndsWith("@privaterelay.appleid.com", StringComparison.Ordinal) == true)
        {
            claims["is_private_email"] = "true";
        }

        return Sign(Apple.Credentials, AppleIssuer, AppleClientId, claims, now, null);
    }

    /// <summary>What Apple hands the app beside the ID token: a one-time code for this person's refresh token.</summary>
    public string AppleAuthorizationCode(string subject, string? email)
    {
        var code = "c" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        appleCodes[code] = new AppleAuthorization(subject, email, AppleClientId);
        return code;
    }

    /// <summary>The code GitHub's OAuth redirect would carry after this person approved our app.</summary>
    public string GitHubCode(GitHubAccount account)
    {
        var code = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        gitHubCodes[code] = account;
        return code;
    }

    /// <summary>An access token this person granted to an OAuth app: ours by default, or another one's.</summary>
    public string GitHubAccessToken(GitHubAccount account, string clientId = GitHubClientId)
    {
        var token = "gho_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18));
        gitHubTokens[token] = (account, clientId);
        return token;
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        appleP8.Dispose();
        Google.Dispose();
        Apple.Dispose();
    }

    public static string Sign(
        SigningCredentials credentials, string issuer, string audience, IDictionary<string, object> claims, DateTimeOffset? now = null,
        Action<SecurityTokenDescriptor>? change = null)
    {
        var issuedAt = now ?? DateTimeOffset.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issuedAt.UtcDateTime,
            Expires = issuedAt.AddHours(1).UtcDateTime,
            Claims = claims,
            SigningCredentials = credentials,
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private string Url(string path) => new Uri(BaseAddress, path).ToString();

    private static void AddIfSet(Dictionary<string, object> claims, string name, string? value)
    {
        if (value is not null)
        {
            claims[name] = value;
        }
    }

    private void MapGoogle() => host.MapGet("/google/jwks", () => Google.ServeJwks());

    private void MapApple()
    {
        host.MapGet("/apple/jwks", () => Apple.ServeJwks());

        host.MapPost("/apple/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            if (!await IsAppleClientSecretAsync(form["client_secret"].ToString(), form["client_id"].ToString()))
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 400);
            }

            if (form["grant_type"] != "authorization_code" || !appleCodes.TryRemove(form["code"].ToString(), out var authorization)
                || authorization.ClientId != form["client_id"])
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }

            var refreshToken = "r." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            AppleRefreshTokensIssued.Enqueue(refreshToken);
            return Results.Json(new
            {
                access_token = "a." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                token_type = "Bearer",
                expires_in = 3600,
                refresh_token = refreshToken,
                id_token = AppleIdToken(authorization.Subject, authorization.Email),
            });
        });

        host.MapPost("/apple/revoke", async (HttpRequest request) =>
        {
            if (AppleRevokeIsDown)
            {
                return Results.StatusCode(503);
            }

            var form = await request.ReadFormAsync();
            if (!await IsAppleClientSecretAsync(form["client_secret"].ToString(), form["client_id"].ToString()))
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 400);
            }

            AppleRevocations.Enqueue((form["client_id"].ToString(), form["token"].ToString()));
            return Results.Ok();
        });
    }

    /// <summary>Apple's check of a client secret: ES256 by the team's .p8 key, its key id, the team, the client, Apple as audience.</summary>
    private async Task<bool> IsAppleClientSecretAsync(string clientSecret, string clientId)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(clientSecret, new TokenValidationParameters
        {
            ValidIssuer = AppleTeamId,
            ValidAudience = AppleIssuer,
            IssuerSigningKey = new ECDsaSecurityKey(appleP8) { KeyId = AppleKeyId },
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireExpirationTime = true,
        });
        return result is { IsValid: true, SecurityToken: JsonWebToken token }
            && token.Kid == AppleKeyId
            && token.Subject == clientId
            && token.ValidTo - token.IssuedAt <= TimeSpan.FromDays(180);
    }

    private void MapGitHub()
    {
        host.MapPost("/github/login/oauth/access_token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            var ours = form["client_id"] == GitHubClientId && form["client_secret"] == GitHubClientSecret;
            var fields = ours && gitHubCodes.TryRemove(form["code"].ToString(), out var account)
                ? new Dictionary<string, string> { ["access_token"] = GitHubAccessToken(account), ["token_type"] = "bearer", ["scope"] = "read:user,user:email" }
                : new Dictionary<string, string> { ["error"] = "bad_verification_code", ["error_description"] = "The code passed is incorrect or expired." };
            // As GitHub does: 200 even for a bad code, and form-encoded unless JSON is asked for.
            return request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal)
                ? Results.Json(fields)
                : Results.Text(string.Join('&', fields.Select(field => $"{field.Key}={WebUtility.UrlEncode(field.Value)}")), "application/x-www-form-urlencoded");
        });

        var api = host.MapGroup("/github/api").AddEndpointFilter(async (invocation, next) =>
            string.IsNullOrEmpty(invocation.HttpContext.Request.Headers.UserAgent)
                ? Results.Json(new { message = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header" }, statusCode: 403)
                : await next(invocation));

        api.MapPost("/applications/{clientId}/token", async (string clientId, HttpRequest request) =>
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{GitHubClientId}:{GitHubClientSecret}"));
            using var body = await JsonDocument.ParseAsync(request.Body);
            var token = body.RootElement.TryGetProperty("access_token", out var value) ? value.GetString() ?? string.Empty : string.Empty;
            return request.Headers.Authorization == $"Basic {basic}" && clientId == GitHubClientId
                && gitHubTokens.TryGetValue(token, out var issued) && issued.ClientId == GitHubClientId
                ? Results.Json(new { id = 1, token, app = new { client_id = clientId }, user = new { id = issued.Account.Id, login = issued.Account.Login } })
                : Results.Json(new { message = "Not Found" }, statusCode: 404);
        });

        api.MapGet("/user", (HttpRequest request) => Bearer(request) is { } account
            ? Results.Json(new { id = account.Id, login = account.Login, name = account.Name })
            : Results.Json(new { message = "Bad credentials" }, statusCode: 401));

        api.MapGet("/user/emails", (HttpRequest request) => Bearer(request) is { } account
            ? Results.Json(account.Emails.Select(email => new { email = email.Address, primary = email.Primary, verified = email.Verified, visibility = "private" }))
            : Results.Json(new { message = "Bad credentials" }, statusCode: 401));
    }

    private GitHubAccount? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && gitHubTokens.TryGetValue(header["Bearer ".Length..], out var issued) ? issued.Account : null;
    }

    private sealed record AppleAuthorization(string Subject, string? Email, string ClientId);

    /// <summary>One provider's signing keys: the current one signs, every published one is in the JWKS, and they rotate.</summary>
    public sealed class ProviderKeys : IDisposable
    {
        private readonly List<AsymmetricSecurityKey> published = [];
        private int fetches;

        public ProviderKeys() => Current = Publish(NewRsaKey());

        public AsymmetricSecurityKey Current { get; private set; }

        public SigningCredentials Credentials => new(Current, Current is ECDsaSecurityKey ? SecurityAlgorithms.EcdsaSha256 : SecurityAlgorithms.RsaSha256);

        /// <summary>How often the JWKS was fetched.</summary>
        public int Fetches => Volatile.Read(ref fetches);

        /// <summary>Publishes a new key and signs with it from now on; the old one stays published, as providers do.</summary>
        public void Rotate(bool elliptic = false) => Current = Publish(elliptic ? new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) : NewRsaKey());

        public static RsaSecurityKey NewRsaKey() => new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N")[..12] };

        public IResult ServeJwks()
        {
            Interlocked.Increment(ref fetches);
            lock (published)
            {
                return Results.Json(new { keys = published.Select(PublicJwk).ToArray() });
            }
        }

        /// <summary>The public half, field by field.</summary>
        public static Dictionary<string, string> PublicJwk(AsymmetricSecurityKey key) => key switch
        {
            RsaSecurityKey rsa when rsa.Rsa.ExportParameters(false) is var p => new()
            {
                ["kty"] = "RSA",
                ["kid"] = key.KeyId,
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["n"] = Base64UrlEncoder.Encode(p.Modulus!),
                ["e"] = Base64UrlEncoder.Encode(p.Exponent!),
            },
            ECDsaSecurityKey ec when ec.ECDsa.ExportParameters(false) is var p => new()
            {
                ["kty"] = "EC",
                ["kid"] = key.KeyId,
                ["use"] = "sig",
                ["alg"] = "ES256",
                ["crv"] = "P-256",
                ["x"] = Base64UrlEncoder.Encode(p.Q.X!),
                ["y"] = Base64UrlEncoder.Encode(p.Q.Y!),
            },
            _ => throw new ArgumentException($"Unsupported key {key.GetType().Name}", nameof(key)),
        };

        public void Dispose()
        {
            foreach (var key in published)
            {
                (key as RsaSecurityKey)?.Rsa.Dispose();
                (key as ECDsaSecurityKey)?.ECDsa.Dispose();
            }
        }

        private AsymmetricSecurityKey Publish(AsymmetricSecurityKey key)
        {
            key.KeyId ??= Guid.NewGuid().ToString("N")[..12];
            lock (published)
            {
                published.Add(key);
            }

            return key;
        }
    }
}

public sealed record GitHubAccount(long Id, string Login, string? Name, IReadOnlyList<GitHubEmail> Emails);

public sealed record GitHubEmail(string Address, bool Primary, bool Verified);
