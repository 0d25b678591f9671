using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apptork.Root.Tests.Features.Auth.Social;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Apptork.Root.Tests.Features.Purchases;

/// <summary>
/// Google Play as the server meets it, with keys this test owns: an OAuth 2.0 token endpoint that checks the service
/// account's RS256 JWT-bearer assertion, the Android Publisher API (purchases.products get and consume, the voided
/// purchases list) that answers only its own access tokens, and Google's signing keys for Pub/Sub push tokens.
/// </summary>
public sealed class LocalGooglePlay : IAsyncDisposable
{
    public const string PackageName = "com.apptork.tests";
    public const string ClientEmail = "play-verifier@apptork-tests.iam.gserviceaccount.com";
    public const string PushServiceAccount = "play-push@apptork-tests.iam.gserviceaccount.com";
    public const string PushAudience = "https://apptork.test/api/v1/purchases/google/notifications";

    private readonly WebApplication host;
    private readonly RSA serviceAccountKey = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, byte> accessTokens = new();

    private LocalGooglePlay()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        host = builder.Build();
        host.MapPost("/token", IssueTokenAsync);
        const string Products = "/androidpublisher/v3/applications/{package}/purchases/products/{productId}/tokens/{token}";
        host.MapGet(Products, (string package, string productId, string token, HttpRequest request) => Answer(request, package, () => Get(productId, token)));
        host.MapPost(Products + ":consume", (string package, string productId, string token, HttpRequest request) => Answer(request, package, () => Consume(productId, token)));
        host.MapGet("/androidpublisher/v3/applications/{package}/purchases/voidedpurchases", (string package, HttpRequest request) => Answer(request, package, () => ListVoided(request)));
        host.MapGet("/jwks", () => PushKeys.ServeJwks());
    }

    /// <summary>The keys Google signs Pub/Sub push tokens with.</summary>
    public LocalProviders.ProviderKeys PushKeys { get; } = new();

    /// <summary>Purchases by token, as Google keeps them; a test changes their state as Google would.</summary>
    public ConcurrentDictionary<string, PlayPurchase> Purchases { get; } = new();

    /// <summary>Purchases Google lists as voided, the newest last.</summary>
    public ConcurrentQueue<(string Token, string OrderId)> Voided { get; } = new();

    public ConcurrentQueue<string> Consumptions { get; } = new();

    /// <summary>Access tokens issued for a valid assertion.</summary>
    public int TokensIssued => accessTokens.Count;

    /// <summary>When set, the Android Publisher API answers 503, as during an outage.</summary>
    public bool Down { get; set; }

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<LocalGooglePlay> StartAsync()
    {
        var play = new LocalGooglePlay();
        await play.host.StartAsync();
        play.BaseAddress = new Uri(play.host.Urls.First());
        return play;
    }

    /// <summary>The service account's JSON key as Google Cloud's console downloads it, its token_uri this server's.</summary>
    public string ServiceAccountKey(RSA? key = null) => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["type"] = "service_account",
        ["project_id"] = "apptork-tests",
        ["private_key_id"] = "0123456789abcdef",
        ["private_key"] = (key ?? serviceAccountKey).ExportPkcs8PrivateKeyPem(),
        ["client_email"] = ClientEmail,
        ["client_id"] = "112233445566778899",
        ["token_uri"] = Url("token"),
    });

    public Dictionary<string, string?> Settings(bool? allowTestPurchases = null) => new()
    {
        ["Purchases:Google:PackageName"] = PackageName,
        ["Purchases:Google:ServiceAccountKey"] = ServiceAccountKey(),
        ["Purchases:Google:ApiBase"] = BaseAddress.ToString().TrimEnd('/'),
        ["Purchases:Google:AllowTestPurchases"] = allowTestPurchases?.ToString(),
        ["Purchases:Google:NotificationAudience"] = PushAudience,
        ["Purchases:Google:NotificationServiceAccount"] = PushServiceAccount,
        ["Purchases:Google:JwksUrl"] = Url("jwks"),
    };

    /// <summary>A purchase made in the app: Google now knows its token.</summary>
    public string Buy(
        string productId, Guid? accountId = null, string? rawAccountId = null, int state = 0, int consumption = 0, int? type = null, bool withOrder = true, int quantity = 1)
    {
        var token = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(96));
        var order = withOrder ? $"GPA.{RandomNumberGenerator.GetInt32(1000, 9999)}-{RandomNumberGenerator.GetInt32(1000, 9999)}-{RandomNumberGenerator.GetInt32(1000, 9999)}-{RandomNumberGenerator.GetInt32(10000, 99999)}" : null;
        Purchases[token] = new PlayPurchase(productId, order, state, consumption, type, rawAccountId ?? accountId?.ToString(), quantity);
        return token;
    }

    /// <summary>Google refunds the purchase: its state is cancelled and it is listed as voided.</summary>
    public string Void(string token)
    {
        var purchase = Purchases[token] = Purchases[token] with { PurchaseState = 1 };
        Voided.Enqueue((token, purchase.OrderId!));
        return purchase.OrderId!;
    }

    /// <summary>A Pub/Sub push body around a developer notification.</summary>
    public static string PushBody(object notification, string? messageId = null) => JsonSerializer.Serialize(new
    {
        message = new
        {
            data = Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(notification))),
            messageId = messageId ?? RandomNumberGenerator.GetInt32(1_000_000, int.MaxValue).ToString(CultureInfo.InvariantCulture),
            publishTime = DateTimeOffset.UtcNow.ToString("O"),
        },
        subscription = "projects/apptork-tests/subscriptions/play-notifications",
    });

    public static object VoidedNotification(string token, string orderId) => new
    {
        version = "1.0",
        packageName = PackageName,
        eventTimeMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        voidedPurchaseNotification = new { purchaseToken = token, orderId, productType = 2, refundType = 1 },
    };

    public static object OneTimeNotification(string token, string productId, int type, string packageName = PackageName) => new
    {
        version = "1.0",
        packageName,
        eventTimeMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        oneTimeProductNotification = new { version = "1.0", notificationType = type, purchaseToken = token, sku = productId },
    };

    /// <summary>The OIDC token Pub/Sub signs for a push, or one wrong in a chosen way.</summary>
    public string PushToken(string audience = PushAudience, string email = PushServiceAccount, bool expired = false, SigningCredentials? credentials = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://accounts.google.com",
            Audience = audience,
            Claims = new Dictionary<string, object> { ["sub"] = "107741234567890123456", ["email"] = email, ["email_verified"] = true, ["azp"] = "107741234567890123456" },
            IssuedAt = expired ? now.AddHours(-2) : now,
            NotBefore = expired ? now.AddHours(-2) : now,
            Expires = expired ? now.AddHours(-1) : now.AddHours(1),
            SigningCredentials = credentials ?? PushKeys.Credentials,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        serviceAccountKey.Dispose();
        PushKeys.Dispose();
    }

    private string Url(string path) => new Uri(BaseAddress, path).ToString();

    private async Task<IResult> IssueTokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(form["assertion"].ToString(), new TokenValidationParameters
        {
            IssuerSigningKey = new RsaSecurityKey(serviceAccountKey.ExportParameters(false)),
            ValidIssuer = ClientEmail,
            // Google's token endpoint wants its own address as the audience, wherever the request is sent.
            ValidAudience = "https://oauth2.googleapis.com/token",
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireExpirationTime = true,
            TryAllIssuerSigningKeys = true,
        });
        if (!result.IsValid || !result.Claims.TryGetValue("scope", out var scope) || !$"{scope}".Split(' ').Contains("https://www.googleapis.com/auth/androidpublisher"))
        {
            return Results.Json(new { error = "invalid_grant", error_description = "Invalid JWT Signature." }, statusCode: 400);
        }

        var token = "ya29." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        accessTokens[token] = 0;
        return Results.Json(new { access_token = token, expires_in = 3599, token_type = "Bearer" });
    }

    private IResult Answer(HttpRequest request, string package, Func<IResult> answer)
    {
        if (Down)
        {
            return GoogleError(503, "The service is currently unavailable.");
        }

        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !accessTokens.ContainsKey(authorization["Bearer ".Length..]))
        {
            return GoogleError(401, "Request is missing required authentication credential.");
        }

        return package == PackageName ? answer() : GoogleError(404, "No application was found for the given package name.");
    }

    private IResult Get(string productId, string token) =>
        Purchases.TryGetValue(token, out var purchase) && purchase.ProductId == productId
            ? Results.Json(purchase.ToApi(token), new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull })
            : GoogleError(400, "The purchase token is no longer valid.");

    private IResult Consume(string productId, string token)
    {
        if (!Purchases.TryGetValue(token, out var purchase) || purchase.ProductId != productId || purchase.PurchaseState != 0)
        {
            return GoogleError(400, "The purchase token is no longer valid.");
        }

        if (!Purchases.TryUpdate(token, purchase with { ConsumptionState = 1 }, purchase) || purchase.ConsumptionState == 1)
        {
            return GoogleError(400, "The product purchase is not owned by the user.");
        }

        Consumptions.Enqueue(token);
        return Results.NoContent();
    }

    /// <summary>Two per page, so the server must follow the page tokens.</summary>
    private IResult ListVoided(HttpRequest request)
    {
        var start = int.TryParse(request.Query["token"], out var page) ? page : 0;
        var all = Voided.ToArray();
        var slice = all.Skip(start).Take(2).Select(voided => new
        {
            kind = "androidpublisher#voidedPurchase",
            purchaseToken = voided.Token,
            orderId = voided.OrderId,
            voidedTimeMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            voidedSource = 0,
            voidedReason = 1,
        }).ToArray();
        return start + 2 < all.Length
            ? Results.Json(new { voidedPurchases = slice, tokenPagination = new { nextPageToken = (start + 2).ToString(CultureInfo.InvariantCulture) } })
            : Results.Json(new { voidedPurchases = slice });
    }

    private static IResult GoogleError(int status, string message) =>
        Results.Json(new { error = new { code = status, message, errors = new[] { new { message, domain = "global", reason = "invalid" } } } }, statusCode: status);

    /// <summary>A one-time product purchase as Google keeps it: state 0 purchased, 1 cancelled, 2 pending; consumption 0 or 1; type 0 for a license tester.</summary>
    public sealed record PlayPurchase(
        string ProductId, string? OrderId, int PurchaseState, int ConsumptionState, int? PurchaseType, string? ObfuscatedExternalAccountId, int Quantity)
    {
        public object ToApi(string token) => new
        {
            kind = "androidpublisher#productPurchase",
            purchaseTimeMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            purchaseState = PurchaseState,
            consumptionState = ConsumptionState,
            developerPayload = string.Empty,
            orderId = OrderId,
            purchaseType = PurchaseType,
            acknowledgementState = 0,
            purchaseToken = token,
            productId = ProductId,
            quantity = Quantity,
            obfuscatedExternalAccountId = ObfuscatedExternalAccountId,
            regionCode = "US",
        };
    }
}
