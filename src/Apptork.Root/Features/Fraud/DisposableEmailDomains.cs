using System.Collections.Frozen;

namespace Apptork.Root.Features.Fraud;

/// <summary>
/// The disposable and temporary email domains that ship with the product (<c>Data/disposable-email-domains.txt</c>,
/// vendored from the npm package <c>disposable-email-domains</c> by <c>tools/refresh-disposable-domains.sh</c>).
/// A domain is disposable when it or any parent domain is listed, so <c>x.mailinator.com</c> is caught too.
/// </summary>
public sealed class DisposableEmailDomains
{
    private const string ResourceName = "Apptork.Root.Features.Fraud.Data.disposable-email-domains.txt";

    private static readonly Lazy<DisposableEmailDomains> ShippedList = new(LoadShipped);

    private readonly FrozenSet<string> domains;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> lookup;

    private DisposableEmailDomains(FrozenSet<string> domains)
    {
        this.domains = domains;
        lookup = domains.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The list embedded in this build, read once per process and shared (it is immutable).</summary>
    public static DisposableEmailDomains Shipped => ShippedList.Value;

    public int Count => domains.Count;

    /// <summary>Reads one domain a line; blank lines and <c>#</c> comments are skipped.</summary>
    public static DisposableEmailDomains Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var domains = new List<string>(capacity: 131_072);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
            {
                domains.Add(line);
            }
        }

        return new DisposableEmailDomains(domains.ToFrozenSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// True when <paramref name="domain"/> or one of its parent domains is listed: one set lookup per label.
    /// Expects a domain as <see cref="EmailNormalizer"/> normalizes it (lower-case punycode, no trailing dot).
    /// </summary>
    public bool IsDisposable(string domain)
    {
        foreach (var suffix in new DomainSuffixes(domain))
        {
            if (lookup.Contains(suffix))
            {
                return true;
            }
        }

        return false;
    }

    private static DisposableEmailDomains LoadShipped()
    {
        using var stream = typeof(DisposableEmailDomains).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from this build.");
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }
}
