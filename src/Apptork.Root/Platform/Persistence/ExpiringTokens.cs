using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// Short-lived credentials carried in URLs: a payload protected by ASP.NET Core Data Protection with an expiry, under a
/// purpose of its own, so it cannot be forged, altered, used after it expires or taken for another purpose's token. The
/// keys are shared by every process through the database.
/// </summary>
public sealed class ExpiringTokens(IDataProtectionProvider protection, string purpose)
{
    private readonly ITimeLimitedDataProtector protector = protection.CreateProtector(purpose).ToTimeLimitedDataProtector();

    public string Issue(string payload, DateTimeOffset expiresAt) => protector.Protect(payload, expiresAt);

    /// <summary>The payload of a valid, unexpired token of this purpose; null for anything else.</summary>
    public string? Read(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            return protector.Unprotect(token, out _);
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            return null;
        }
    }
}
