using System.Diagnostics;
using System.Net.Mail;
using System.Runtime.CompilerServices;
using Apptork.Root.Features.Fraud;

// The shipped disposable-domain list: what loading it costs, and its lookup rate (the domain and every parent, as
// sign-in checks it) against plain HashSet<string>s holding the same domains, all in this run. The RESULT lines carry
// the load, the memory retained and the lookup rate beside the HashSet's (span parents, the fair comparison). Rates are the best of
// several interleaved rounds, which filters out tiered compilation and a busy neighbour.
const string ResourceName = "Apptork.Root.Features.Fraud.Data.disposable-email-domains.txt";
const int Rounds = 9;

var coldStart = Stopwatch.StartNew();
var shipped = DisposableEmailDomains.Shipped;
var firstUseMilliseconds = coldStart.Elapsed.TotalMilliseconds;
var listText = ReadListText();
var (loadMilliseconds, retainedBytes) = MeasureLoad(() => DisposableEmailDomains.Parse(listText));
var (baselineLoadMilliseconds, baselineRetainedBytes) = MeasureLoad(() => new HashSet<string>(ReadDomains(), StringComparer.Ordinal));
var baseline = new HashSet<string>(ReadDomains(), StringComparer.Ordinal);
var baselineSpans = baseline.GetAlternateLookup<ReadOnlySpan<char>>();

// What sign-in sees: mostly real providers and company domains (a miss walks every parent), some disposable ones.
string[] sample =
[
    "gmail.com", "outlook.com", "mail.example.co.uk", "a.b.c.corp.example", "yahoo.co.jp", "proton.me", "web.de",
    "students.cs.university.edu", "mailinator.com", "x.y.guerrillamail.com", "yopmail.fr", "inbox.mailinator.com",
];
var domains = Enumerable.Range(0, 2_000_000).Select(index => sample[index % sample.Length]).ToArray();
var addresses = domains.Take(200_000).Select((domain, index) => $"First.Last+{index}@{domain}").ToArray();

var best = new Dictionary<string, double>();
for (var round = 0; round < Rounds; round++)
{
    Measure("IsDisposable (sorted hashes, span parents)", domains, shipped.IsDisposable);
    Measure("HashSet, Substring parents", domains, domain => IsListed(baseline, domain));
    Measure("HashSet, span parents", domains, domain => IsListedBySpans(baselineSpans, domain));
    Measure("EmailNormalizer.TryNormalize", addresses, address => EmailNormalizer.TryNormalize(address, out _));
    Measure("MailAddress.TryCreate", addresses, address => MailAddress.TryCreate(address, out _));
}

Console.WriteLine($"disposable-email-domains: {shipped.Count:N0} domains");
Console.WriteLine($"first use (resource read, JIT):    {firstUseMilliseconds,7:F1} ms");
Console.WriteLine($"load into sorted hashes (warm):    {loadMilliseconds,7:F1} ms, {retainedBytes / 1048576.0,5:F1} MiB retained");
Console.WriteLine($"load into HashSet (warm, baseline): {baselineLoadMilliseconds,6:F1} ms, {baselineRetainedBytes / 1048576.0,5:F1} MiB retained");
Report("IsDisposable (sorted hashes, span parents)", "HashSet, Substring parents", "lookups");
Report("HashSet, span parents", "HashSet, Substring parents", "lookups");
Report("EmailNormalizer.TryNormalize", "MailAddress.TryCreate", "addresses");
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_first_use_ms={firstUseMilliseconds:F1}"));
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_load_ms={loadMilliseconds:F1}"));
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_retained_mib={retainedBytes / 1048576.0:F2}"));
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_hashset_retained_mib={baselineRetainedBytes / 1048576.0:F2}"));
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_lookups_per_s={best["IsDisposable (sorted hashes, span parents)"]:F0}"));
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_hashset_lookups_per_s={best["HashSet, span parents"]:F0}"));
Console.WriteLine(FormattableString.Invariant($"RESULT disposable_lookup_ratio={best["IsDisposable (sorted hashes, span parents)"] / best["HashSet, span parents"]:F2}"));
return 0;

void Measure(string name, string[] inputs, Func<string, bool> operation)
{
    var hits = 0;
    var started = Stopwatch.StartNew();
    foreach (var input in inputs)
    {
        hits += operation(input) ? 1 : 0;
    }

    var rate = inputs.Length / started.Elapsed.TotalSeconds;
    best[name] = Math.Max(best.GetValueOrDefault(name), rate);
    GC.KeepAlive(hits);
}

void Report(string name, string baselineName, string unit) =>
    Console.WriteLine($"{name,-40} {best[name] / 1e6,7:F2} M {unit}/s   vs {baselineName} {best[baselineName] / 1e6,6:F2} M/s: {best[name] / best[baselineName]:F2}x");

[MethodImpl(MethodImplOptions.NoInlining)]
static (double Milliseconds, long RetainedBytes) MeasureLoad(Func<object> load)
{
    GC.KeepAlive(load());
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var started = Stopwatch.StartNew();
    var loaded = load();
    var milliseconds = started.Elapsed.TotalMilliseconds;
    var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
    GC.KeepAlive(loaded);
    return (milliseconds, retained);
}

static bool IsListed(HashSet<string> listed, string domain)
{
    for (var suffix = domain; suffix.Contains('.', StringComparison.Ordinal); suffix = suffix[(suffix.IndexOf('.', StringComparison.Ordinal) + 1)..])
    {
        if (listed.Contains(suffix))
        {
            return true;
        }
    }

    return false;
}

static bool IsListedBySpans(HashSet<string>.AlternateLookup<ReadOnlySpan<char>> listed, string domain)
{
    for (var suffix = domain.AsSpan(); suffix.Contains('.'); suffix = suffix[(suffix.IndexOf('.') + 1)..])
    {
        if (listed.Contains(suffix))
        {
            return true;
        }
    }

    return false;
}

static byte[] ReadListText()
{
    using var stream = OpenList().BaseStream;
    var text = new byte[stream.Length];
    stream.ReadExactly(text);
    return text;
}

static StreamReader OpenList() =>
    new(typeof(DisposableEmailDomains).Assembly.GetManifestResourceStream(ResourceName) ?? throw new InvalidOperationException($"{ResourceName} is missing."));

static IEnumerable<string> ReadDomains()
{
    using var reader = OpenList();
    while (reader.ReadLine() is { } line)
    {
        if (line.Length > 0 && line[0] != '#')
        {
            yield return line;
        }
    }
}
