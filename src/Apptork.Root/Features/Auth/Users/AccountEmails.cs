using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Errors;
using Microsoft.AspNetCore.Identity;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>An address as given (cleaned, to send mail to) and its canonical key (what accounts are unique on).</summary>
public sealed record AccountEmail(string Address, string Key);

/// <summary>Decides whether an address may hold an account, and under which canonical key.</summary>
public sealed class AccountEmails(EmailDomainPolicy domains)
{
    /// <summary>The accepted address, or a field error at <paramref name="attr"/>: <c>invalid</c> or <c>disposable_email</c>.</summary>
    public async Task<AccountEmail> AcceptAsync(string rawEmail, string attr, CancellationToken cancellationToken)
    {
        if (!EmailNormalizer.TryNormalize(rawEmail, out var email))
        {
            throw ErrorCatalog.Invalid.ToException(attr);
        }

        // Operator-blocked domains answer like disposable ones: the caller learns no more than "not accepted".
        return await domains.DecideAsync(email.Domain, cancellationToken) == EmailDomainDecision.Allowed
            ? new AccountEmail(email.Address, email.CanonicalKey)
            : throw ErrorCatalog.DisposableEmail.ToException(attr);
    }
}

/// <summary>
/// Makes Identity's <c>NormalizedEmail</c> the canonical address (Gmail dots and tags folded, and so on), so
/// <c>FindByEmailAsync</c> and the unique index treat two spellings of one mailbox as one account.
/// </summary>
public sealed class AccountLookupNormalizer : ILookupNormalizer
{
    public string? NormalizeEmail(string? email) =>
        email is null ? null : EmailNormalizer.TryNormalize(email, out var normalized) ? normalized.CanonicalKey : email.Trim().ToLowerInvariant();

    public string? NormalizeName(string? name) => name?.ToUpperInvariant();
}
