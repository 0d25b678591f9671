namespace Apptork.Root.Features.Auth.Social;

/// <summary>
/// Which provider is the authority for which addresses: the one table the merge rule reads. A provider is the
/// authority only for mailboxes it runs, since only then does "verified" mean the signer receives mail there now. An
/// address it verified once elsewhere may have changed hands since (a lapsed domain, a recycled address), so it is only
/// <see cref="EmailTrust.Verified"/>, and joins an existing account only after an email code (<c>link_required</c>).
/// </summary>
public static class EmailAuthority
{
    /// <summary>The mail domains each provider runs. GitHub runs no mailboxes, so it is the authority for none.</summary>
    private static readonly Dictionary<string, string[]> Domains = new(StringComparer.Ordinal)
    {
        [SocialProviders.Google] = ["gmail.com", "googlemail.com"],
        // Apple's private relay, and the iCloud mail domains.
        [SocialProviders.Apple] = ["privaterelay.appleid.com", "icloud.com", "me.com", "mac.com"],
        [SocialProviders.GitHub] = [],
    };

    /// <summary>
    /// How far <paramref name="provider"/>'s word about <paramref name="email"/> goes. <paramref name="workspaceDomain"/>
    /// is Google's <c>hd</c> claim: the account belongs to a Google Workspace domain, whose mail Google runs.
    /// </summary>
    public static EmailTrust Trust(string provider, string? email, bool verified, string? workspaceDomain = null)
    {
        if (!verified || email is null)
        {
            return EmailTrust.Unverified;
        }

        var domain = email[(email.LastIndexOf('@') + 1)..];
        var runsTheMailbox = Domains[provider].Contains(domain, StringComparer.OrdinalIgnoreCase)
            || (provider == SocialProviders.Google && workspaceDomain is not null);
        return runsTheMailbox ? EmailTrust.Authoritative : EmailTrust.Verified;
    }
}
