using System.Net.Mail;

namespace Apptork.Root.Features.Auth.Social;

/// <summary>The providers one can sign in with, by the names the API and the stored identities use.</summary>
public static class SocialProviders
{
    public const string Google = "google";
    public const string Apple = "apple";
    public const string GitHub = "github";

    /// <summary>The provider's own spelling of its name, for texts people read.</summary>
    public static string BrandName(string provider) => provider switch
    {
        Google => "Google",
        Apple => "Apple",
        GitHub => "GitHub",
        _ => provider,
    };
}

/// <summary>How far a provider's word about an email address can be taken; <see cref="EmailAuthority"/> decides.</summary>
public enum EmailTrust
{
    /// <summary>No address, or one the provider has not verified: it says nothing about who owns the mailbox.</summary>
    Unverified,

    /// <summary>
    /// Verified once by a provider that does not run the mailbox: the address may since have changed hands, so it joins an
    /// existing account only after an email code (<c>link_required</c>).
    /// </summary>
    Verified,

    /// <summary>The provider runs the mailbox: the signer receives mail there now.</summary>
    Authoritative,
}

/// <summary>Who a provider says the person is, after the provider's proof was checked. <see cref="Subject"/> is the identity's key.</summary>
public sealed record ProviderProfile(string Provider, string Subject, string? Email, EmailTrust Trust, string? DisplayName)
{
    private const int MaxDisplayName = 100;
    private const int MaxEmail = 254;

    /// <summary>Cleans what the provider sent: an address that isn't one counts as none, a long name is cut.</summary>
    public static ProviderProfile Create(string provider, string subject, string? email, EmailTrust trust, string? displayName)
    {
        var address = email?.Trim();
        var usable = address is { Length: > 0 and <= MaxEmail } && MailAddress.TryCreate(address, out var parsed) && parsed.Address == address;
        var name = displayName?.Trim();
        return new ProviderProfile(
            provider,
            subject,
            usable ? address : null,
            usable ? trust : EmailTrust.Unverified,
            string.IsNullOrEmpty(name) ? null : name.Length <= MaxDisplayName ? name : name[..MaxDisplayName]);
    }

    /// <summary>The address shown beside the identity in the user's list; only one the provider verified.</summary>
    public string? VerifiedEmail => Trust == EmailTrust.Unverified ? null : Email;
}
