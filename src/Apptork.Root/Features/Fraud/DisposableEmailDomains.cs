using System.IO.Hashing;
using System.Text;

namespace Apptork.Root.Features.Fraud;

/// <summary>
/// The disposable and temporary email domains that ship with the product (<c>Data/disposable-email-domains.txt</c>,
/// vendored from the npm package <c>disposable-email-domains</c> by <c>tools/refresh-disposable-domains.sh</c>).
/// A domain is disposable when it or any parent domain is listed, so <c>x.mailinator.com</c> is caught too.
/// </summary>
/// <remarks>
/// Held as one sorted array of the domains' 64-bit XxHash3 values, searched by binary search: about 1 MiB for the
/// 121k domains, where a set of strings retained about 12 MiB and took longer to build at start-up. Two different
/// domains share a hash with a probability of about 2^-64 per pair, so an unlisted domain is taken for a listed one
/// once in about 10^14 lookups.
/// </remarks>
public sealed class DisposableEmailDomains
{
    private const string ResourceName = "Apptork.Root.Features.Fraud.Data.disposable-email-domains.txt";

    // Longer than any domain (253 characters), so hashing a domain never allocates.
    private const int StackBufferBytes = 1024;

    private static readonly Lazy<DisposableEmailDomains> ShippedList = new(LoadShipped);

    private readonly ulong[] sortedHashes;

    private DisposableEmailDomains(ulong[] hashes)
    {
        Array.Sort(hashes);
        sortedHashes = hashes;
    }

    /// <summary>The list embedded in this build, read once per process and shared (it is immutable).</summary>
    public static DisposableEmailDomains Shipped => ShippedList.Value;

    public int Count => sortedHashes.Length;

    /// <summary>Reads UTF-8 text with one domain a line; blank lines and <c>#</c> comments are skipped.</summary>
    public static DisposableEmailDomains Parse(ReadOnlySpan<byte> utf8Lines)
    {
        var hashes = new List<ulong>(capacity: 131_072);
        foreach (var range in utf8Lines.Split((byte)'\n'))
        {
            var line = utf8Lines[range].TrimEnd((byte)'\r');
            if (line.Length > 0 && line[0] != (byte)'#')
            {
                hashes.Add(XxHash3.HashToUInt64(line));
            }
        }

        return new DisposableEmailDomains(hashes.ToArray());
    }

    /// <summary>
    /// True when <paramref name="domain"/> or one of its parent domains is listed: one binary search per label.
    /// Expects a domain as <see cref="EmailNormalizer"/> normalizes it (lower-case punycode, no trailing dot).
    /// </summary>
    public bool IsDisposable(string domain)
    {
        foreach (var suffix in new DomainSuffixes(domain))
        {
            if (sortedHashes.AsSpan().BinarySearch(Hash(suffix)) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static ulong Hash(ReadOnlySpan<char> domain)
    {
        Span<byte> buffer = Encoding.UTF8.GetMaxByteCount(domain.Length) <= StackBufferBytes
            ? stackalloc byte[StackBufferBytes]
            : new byte[Encoding.UTF8.GetMaxByteCount(domain.Length)];
        var length = Encoding.UTF8.GetBytes(domain, buffer);
        return XxHash3.HashToUInt64(buffer[..length]);
    }

    private static DisposableEmailDomains LoadShipped()
    {
        using var stream = typeof(DisposableEmailDomains).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from this build.");
        var text = new byte[stream.Length];
        stream.ReadExactly(text);
        return Parse(text);
    }
}
