namespace Apptork.Root.Features.Fraud;

/// <summary>
/// A domain and each of its parents that still has two labels, most specific first, as slices of the one string:
/// <c>a.b.example.com</c>, <c>b.example.com</c>, <c>example.com</c>. Lets a lookup match parents without allocating.
/// </summary>
internal readonly ref struct DomainSuffixes(ReadOnlySpan<char> domain)
{
    private readonly ReadOnlySpan<char> domain = domain;

    public Enumerator GetEnumerator() => new(domain);

    public ref struct Enumerator(ReadOnlySpan<char> domain)
    {
        private ReadOnlySpan<char> remaining = domain;
        private bool started;

        public ReadOnlySpan<char> Current { get; private set; }

        public bool MoveNext()
        {
            if (started)
            {
                remaining = remaining[(remaining.IndexOf('.') + 1)..];
            }

            started = true;
            if (!remaining.Contains('.'))
            {
                return false;
            }

            Current = remaining;
            return true;
        }
    }
}
