using System.Collections.Frozen;
using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Fraud;

public enum EmailDomainDecision
{
    Allowed,

    /// <summary>On the shipped disposable list, with no operator rule allowing it: answer <c>disposable_email</c>.</summary>
    Disposable,

    /// <summary>An operator blocked the domain: answered as <c>disposable_email</c> too.</summary>
    Blocked,
}

/// <summary>
/// Decides whether sign-in may use an email domain: the operators' rules (<see cref="EmailDomainRule"/>) first, the
/// most specific matching domain deciding, then the shipped <see cref="DisposableEmailDomains"/> list.
/// </summary>
/// <remarks>
/// Rules are read from the database at most once per <see cref="RulesCacheLifetime"/> per process, so a sign-in never
/// waits on a query once warm. Whoever changes a rule calls <see cref="RefreshAsync"/>, which makes this process see it
/// at once and announces it (<see cref="ChangeBroadcast"/>): other processes read the rules again at their next
/// decision, or when their copy expires if they missed the announcement.
/// </remarks>
public sealed class EmailDomainPolicy : IDisposable
{
    public const string Topic = "email-domain-rules";

    public static readonly TimeSpan RulesCacheLifetime = TimeSpan.FromSeconds(30);

    private readonly DisposableEmailDomains disposableDomains;
    private readonly IServiceScopeFactory scopeFactory;
    private readonly TimeProvider timeProvider;
    private readonly ChangeBroadcast broadcast;
    private readonly SemaphoreSlim loading = new(1, 1);
    private volatile RuleSnapshot? rules;

    public EmailDomainPolicy(DisposableEmailDomains disposableDomains, IServiceScopeFactory scopeFactory, TimeProvider timeProvider, ChangeBroadcast broadcast)
    {
        this.disposableDomains = disposableDomains;
        this.scopeFactory = scopeFactory;
        this.timeProvider = timeProvider;
        this.broadcast = broadcast;
        broadcast.Subscribe(Topic, _ => rules = null);
    }

    /// <exception cref="ArgumentException"><paramref name="domain"/> is not a valid domain name.</exception>
    public async ValueTask<EmailDomainDecision> DecideAsync(string domain, CancellationToken cancellationToken)
    {
        if (!EmailNormalizer.TryNormalizeDomain(domain, out var normalized))
        {
            throw new ArgumentException($"'{domain}' is not a valid domain name.", nameof(domain));
        }

        var current = await CurrentRulesAsync(cancellationToken);
        foreach (var suffix in new DomainSuffixes(normalized))
        {
            if (current.Lookup.TryGetValue(suffix, out var kind))
            {
                return kind == EmailDomainRuleKind.Allow ? EmailDomainDecision.Allowed : EmailDomainDecision.Blocked;
            }
        }

        return disposableDomains.IsDisposable(normalized) ? EmailDomainDecision.Disposable : EmailDomainDecision.Allowed;
    }

    /// <summary>Reads the rules again now and tells the other processes to; call it after adding, changing or removing a rule.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await broadcast.PublishAsync(Topic, "changed");
        await loading.WaitAsync(cancellationToken);
        try
        {
            rules = await LoadAsync(cancellationToken);
        }
        finally
        {
            loading.Release();
        }
    }

    public void Dispose() => loading.Dispose();

    private async ValueTask<RuleSnapshot> CurrentRulesAsync(CancellationToken cancellationToken)
    {
        if (rules is { } fresh && !IsExpired(fresh))
        {
            return fresh;
        }

        // One query per expiry however many sign-ins arrive at that moment.
        await loading.WaitAsync(cancellationToken);
        try
        {
            if (rules is not { } current || IsExpired(current))
            {
                current = await LoadAsync(cancellationToken);
                rules = current;
            }

            return current;
        }
        finally
        {
            loading.Release();
        }
    }

    private bool IsExpired(RuleSnapshot snapshot) => timeProvider.GetUtcNow() - snapshot.LoadedAt >= RulesCacheLifetime;

    private async Task<RuleSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        // Taken before the query, so that a rule changed while it runs is read again at the next expiry at the latest.
        var loadedAt = timeProvider.GetUtcNow();
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var all = await db.EmailDomainRules.AsNoTracking()
            .Select(rule => new { rule.Domain, rule.Kind })
            .ToListAsync(cancellationToken);
        return new RuleSnapshot(all.ToFrozenDictionary(rule => rule.Domain, rule => rule.Kind, StringComparer.Ordinal), loadedAt);
    }

    private sealed class RuleSnapshot(FrozenDictionary<string, EmailDomainRuleKind> byDomain, DateTimeOffset loadedAt)
    {
        public FrozenDictionary<string, EmailDomainRuleKind>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; } =
            byDomain.GetAlternateLookup<ReadOnlySpan<char>>();

        public DateTimeOffset LoadedAt { get; } = loadedAt;
    }
}
