using System.Globalization;
using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.FeatureManagement;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// The flags of the database as FeatureManagement definitions, kept in memory: read again at most
/// <see cref="TimeToLive"/> after the last read, and at once when any process announces a change
/// (<see cref="ChangeBroadcast"/>). So a change reaches every process as fast as the announcement, and a process that
/// missed it (Redis down) within the time to live. The library caches only its filters' bound settings, not
/// definitions: this cache is what keeps a flag check from querying the database.
/// </summary>
public sealed partial class FeatureFlagDefinitions : IFeatureDefinitionProvider, IDisposable
{
    public const string Topic = "feature-flags";

    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(3);

    private readonly IServiceScopeFactory scopes;
    private readonly TimeProvider time;
    private readonly ILogger<FeatureFlagDefinitions> logger;
    private readonly SemaphoreSlim reading = new(1, 1);
    private volatile Snapshot? current;

    /// <summary>Counts announcements: a snapshot read before the last one is stale, even one whose read was under way.</summary>
    private long invalidations;

    public FeatureFlagDefinitions(ChangeBroadcast broadcast, IServiceScopeFactory scopes, TimeProvider time, ILogger<FeatureFlagDefinitions> logger)
    {
        this.scopes = scopes;
        this.time = time;
        this.logger = logger;
        broadcast.Subscribe(Topic, _ => Invalidate());
    }

    /// <summary>The flags as last read, by key; read first when stale.</summary>
    public async ValueTask<IReadOnlyDictionary<string, FeatureFlag>> FlagsAsync(CancellationToken cancellationToken = default) =>
        (await CurrentAsync(cancellationToken)).Flags;

    /// <summary>Makes the next look read the database again (a message of another process, or a change made here).</summary>
    public void Invalidate() => Interlocked.Increment(ref invalidations);

    public async Task<FeatureDefinition?> GetFeatureDefinitionAsync(string featureName) =>
        (await CurrentAsync(CancellationToken.None)).Definitions.GetValueOrDefault(featureName);

    public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
    {
        foreach (var definition in (await CurrentAsync(CancellationToken.None)).Definitions.Values)
        {
            yield return definition;
        }
    }

    public void Dispose() => reading.Dispose();

    /// <summary>
    /// The snapshot to answer with. A change announced since it was read is waited for: an operator who turns a feature
    /// off expects the next request to see it. A snapshot merely older than the time to live answers at once while one
    /// read runs in the background: under load every request holds a database connection (a gated endpoint runs inside
    /// the Idempotency-Key's), and all of them waiting for one more connection to re-read unchanged flags could drain
    /// the pool.
    /// </summary>
    private async ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        var snapshot = current;
        if (snapshot is null || snapshot.Invalidations != Interlocked.Read(ref invalidations))
        {
            return await ReadAsync(snapshot, cancellationToken);
        }

        if (!IsFresh(snapshot) && reading.CurrentCount > 0)
        {
            _ = Task.Run(() => ReadAsync(snapshot, CancellationToken.None));
        }

        return snapshot;
    }

    /// <summary>Reads the flags once when the process starts, so that the first requests find them in memory.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CurrentAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogReadFailed(logger, exception);
        }
    }

    private bool IsFresh(Snapshot snapshot) =>
        snapshot.Invalidations == Interlocked.Read(ref invalidations) && time.GetUtcNow() - snapshot.ReadAt < TimeToLive;

    /// <summary>One reader at a time; the others wait for its result rather than query too.</summary>
    private async Task<Snapshot> ReadAsync(Snapshot? stale, CancellationToken cancellationToken)
    {
        await reading.WaitAsync(cancellationToken);
        try
        {
            if (current is { } fresh && IsFresh(fresh))
            {
                return fresh;
            }

            var readAt = time.GetUtcNow();
            var seen = Interlocked.Read(ref invalidations);
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
                var flags = await db.FeatureFlags.AsNoTracking().ToDictionaryAsync(flag => flag.Key, StringComparer.Ordinal, cancellationToken);
                // Unchanged flags keep their snapshot's very objects: what is kept per snapshot (the library's bound
                // filter settings, callers' evaluations in FeatureGates) then outlives a re-read that found nothing new.
                current = stale is not null && SameRules(stale.Flags, flags)
                    ? stale with { ReadAt = readAt, Invalidations = seen }
                    : new Snapshot(flags, flags.ToDictionary(pair => pair.Key, pair => Define(pair.Value), StringComparer.Ordinal), readAt, seen);
            }
            catch (Exception exception) when (stale is not null && !cancellationToken.IsCancellationRequested)
            {
                // The database is away: the flags as last read keep answering, and the next look tries again.
                LogReadFailed(logger, exception);
                current = stale with { ReadAt = readAt - TimeToLive + TimeSpan.FromSeconds(1), Invalidations = seen };
            }

            return current!;
        }
        finally
        {
            reading.Release();
        }
    }

    /// <summary>
    /// A flag as the library evaluates it: the kill switch as its status, then every rule that is set, all required.
    /// The rollout is always there, so an enabled flag with no other rule has a filter to pass.
    /// </summary>
    internal static FeatureDefinition Define(FeatureFlag flag)
    {
        var filters = new List<FeatureFilterConfiguration>
        {
            Filter("Microsoft.Targeting", new() { ["Audience:DefaultRolloutPercentage"] = flag.RolloutPercentage.ToString(CultureInfo.InvariantCulture) }),
        };
        if (flag.Roles.Count > 0)
        {
            filters.Add(Filter(RolesFilter.Alias, Values(flag.Roles)));
        }

        if (flag.Platforms.Count > 0)
        {
            filters.Add(Filter(PlatformsFilter.Alias, Values(flag.Platforms)));
        }

        if (flag.MinAppVersion is not null || flag.MaxAppVersion is not null)
        {
            filters.Add(Filter(AppVersionsFilter.Alias, new() { ["Min"] = flag.MinAppVersion, ["Max"] = flag.MaxAppVersion }));
        }

        if (flag.StartsAt is not null || flag.EndsAt is not null)
        {
            filters.Add(Filter(ScheduleFilter.Alias, new() { ["Start"] = flag.StartsAt?.ToString("O"), ["End"] = flag.EndsAt?.ToString("O") }));
        }

        return new FeatureDefinition
        {
            Name = flag.Key,
            Status = flag.Enabled ? FeatureStatus.Conditional : FeatureStatus.Disabled,
            RequirementType = RequirementType.All,
            EnabledFor = filters,
        };
    }

    private static bool SameRules(IReadOnlyDictionary<string, FeatureFlag> before, Dictionary<string, FeatureFlag> now) =>
        before.Count == now.Count
        && now.All(pair => before.TryGetValue(pair.Key, out var earlier) && Rules(earlier).Equals(Rules(pair.Value)));

    private static object Rules(FeatureFlag flag) => (
        flag.Enabled, flag.RolloutPercentage, string.Join(',', flag.Roles), string.Join(',', flag.Platforms), flag.MinAppVersion, flag.MaxAppVersion,
        flag.StartsAt, flag.EndsAt, flag.UpdatedAt);

    private static Dictionary<string, string?> Values(List<string> words) =>
        words.Select((word, index) => (word, index)).ToDictionary(item => $"Values:{item.index}", item => (string?)item.word);

    private static FeatureFilterConfiguration Filter(string name, Dictionary<string, string?> parameters) => new()
    {
        Name = name,
        Parameters = new ConfigurationBuilder().AddInMemoryCollection(parameters).Build(),
    };

    private sealed record Snapshot(
        IReadOnlyDictionary<string, FeatureFlag> Flags, IReadOnlyDictionary<string, FeatureDefinition> Definitions, DateTimeOffset ReadAt, long Invalidations);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the feature flags; the flags as last read keep answering")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);
}
