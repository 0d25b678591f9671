using System.Security.Cryptography;
using System.Text;

namespace Apptork.Root.Platform.Callers;

/// <summary>What a mobile or web client says about itself in headers, trimmed to sane sizes.</summary>
public sealed record ClientInfo(string? Ip, string? DeviceIdHash, string? Platform, string? AppVersion, string? UserAgent)
{
    public static ClientInfo From(HttpContext context)
    {
        var headers = context.Request.Headers;
        var deviceId = headers["X-Device-Id"].ToString();
        var platform = headers["X-Platform"].ToString().ToLowerInvariant();
        return new ClientInfo(
            context.Connection.RemoteIpAddress?.ToString(),
            string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > 200 ? null : Hash(deviceId.Trim()),
            platform is "ios" or "android" or "web" ? platform : null,
            Trim(headers["X-App-Version"].ToString(), 32),
            Trim(headers.UserAgent.ToString(), 256));
    }

    /// <summary>Device ids identify a person's phone; only their hash is stored.</summary>
    public static string Hash(string deviceId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(deviceId)));

    private static string? Trim(string value, int length) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Length <= length ? value : value[..length];
}
