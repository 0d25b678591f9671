using System.Globalization;
using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.FeatureManagement;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// The flags of the database as FeatureManagement definitions, kept in memory (<see cref="LiveSnapshot{T}"/>): read
/// again before answering when any process announces a change (<see cref="ChangeBroadcast"/>), and in the background
/// once older than <see cref="TimeToLive"/>. So a change reaches every process as fast as the announcement, and a process
/// that missed it (Redis down) soon after the time to live. The library caches only its filters' bound settings, not
/// definitions: this cache is what keeps a flag check from querying the database.
/// </summary>
public sealed partial class FeatureFlagDefinitions : IFeatureDefinitionProvider, IDisposable
{
    public const string Topic = "feature-flags";

    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(3);

    private readonly IServiceScopeFactory scopes;
    private readonly ILogger<FeatureFlagDefinitions> logger;
    private readonly LiveSnapshot<Snapshot> snapshot;

    public FeatureFlagDefinitions(ChangeBroadcast broadcast, IServiceScopeFactory scopes, ILogger<FeatureFlagDefinitions> logger)
    {
        this.scopes = scopes;
        this.logger = logger;
        snapshot = new LiveSnapshot<Snapshot>("feature flags", TimeToLive, ReadAsync, logger);
        broadcast.Subscribe(Topic, _ => Invalidate());
    }

    /// <summary>The flags as last read, by key; read first when a change was announced.</summary>
    public async ValueTask<IReadOnlyDictionary<string, FeatureFlag>> FlagsAsync(CancellationToken cancellationToken = default) =>
        (await snapshot.GetAsync(cancellationToken)).Flags;

    /// <summary>Makes the next look read the database again (a message of another process, or a change made here).</summary>
    public void Invalidate() => snapshot.Invalidate();

    public async Task<FeatureDefinition?> GetFeatureDefinitionAsync(string featureName) =>
        (await snapshot.GetAsync(CancellationToken.None)).Definitions.GetValueOrDefault(featureName);

    public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
    {
        foreach (var definition in (await snapshot.GetAsync(CancellationToken.None)).Definitions.Values)
        {
            yield return definition;
        }
    }

    public void Dispose() => snapshot.Dispose();

    /// <summary>Reads the flags once when the process starts, so that the first requests find them in memory.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await snapshot.GetAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogWarmUpFailed(logger, exception);
        }
    }

    private async Task<Snapshot> ReadAsync(Snapshot? previous, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var flags = await db.FeatureFlags.AsNoTracking().ToDictionaryAsync(flag => flag.Key, StringComparer.Ordinal, cancellationToken);
        // Unchanged flags keep their snapshot's very objects: what is kept per snapshot (the library's bound filter
        // settings, callers' evaluations in FeatureGates) then outlives a re-read that found nothing new.
        return previous is not null && SameRules(previous.Flags, flags)
            ? previous
            : new Snapshot(flags, flags.ToDictionary(pair => pair.Key, pair => Define(pair.Value), StringComparer.Ordinal));
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

    private sealed record Snapshot(IReadOnlyDictionary<string, FeatureFlag> Flags, IReadOnlyDictionary<string, FeatureDefinition> Definitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the feature flags before serving; the first request reads them")]
    private static partial void LogWarmUpFailed(ILogger logger, Exception exception);
}
