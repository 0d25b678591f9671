using System.Net.Mail;
using Apptork.Root.Platform.Errors;
using Microsoft.AspNetCore.Identity;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>An address as given (cleaned, to send mail to) and its canonical key (what accounts are unique on).</summary>
public sealed record AccountEmail(string Address, string Key);

/// <summary>Decides whether an address may hold an account, and under which canonical key.</summary>
public sealed class AccountEmails
{
    /// <summary>The accepted address, or a field error at <paramref name="attr"/>.</summary>
    public AccountEmail Accept(string rawEmail, string attr)
    {
        var trimmed = rawEmail.Trim();
        if (trimmed.Length > 254 || !MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed || !parsed.Host.Contains('.', StringComparison.Ordinal))
        {
            throw ErrorCatalog.Invalid.ToException(attr);
        }

        return new AccountEmail(trimmed, Canonical(trimmed));
    }

    public static string Canonical(string email) => email.Trim().ToLowerInvariant();
}

/// <summary>
/// Makes Identity's <c>NormalizedEmail</c> the canonical address, so <c>FindByEmailAsync</c> and the unique index
/// treat two spellings of one mailbox as one account.
/// </summary>
public sealed class AccountLookupNormalizer : ILookupNormalizer
{
    public string? NormalizeEmail(string? email) => email is null ? null : AccountEmails.Canonical(email);

    public string? NormalizeName(string? name) => name?.ToUpperInvariant();
}
