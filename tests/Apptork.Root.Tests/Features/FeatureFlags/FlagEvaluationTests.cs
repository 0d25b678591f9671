using Apptork.Root.Platform.Callers;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Tests.Infrastructure.Categories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.FeatureManagement;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.FeatureFlags;

/// <summary>The flags' rules as FeatureManagement evaluates them with the product's definitions and filters, no server.</summary>
[Trait(Category.Trait, Category.Fast)]
public sealed class FlagEvaluationTests
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, FeatureDefinition> definitions = new();
    private readonly IFeatureManager features;

    public FlagEvaluationTests()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddFeatureManagement()
            .AddFeatureFilter<RolesFilter>().AddFeatureFilter<PlatformsFilter>().AddFeatureFilter<AppVersionsFilter>().AddFeatureFilter<ScheduleFilter>();
        services.RemoveAll<IFeatureDefinitionProvider>();
        services.AddSingleton<IFeatureDefinitionProvider>(new InMemoryDefinitions(definitions));
        features = services.BuildServiceProvider().GetRequiredService<IFeatureManager>();
    }

    [Fact]
    public async Task A_30_percent_rollout_reaches_30_percent_of_users_the_same_ones_each_time_and_ramping_to_60_keeps_them()
    {
        var users = Enumerable.Range(0, 10_000).Select(number => new Guid(number, 0, 0, new byte[8]).ToString()).ToList();
        Define(new FeatureFlag { Key = "new_editor", Enabled = true, RolloutPercentage = 30 });
        var inAt30 = await InAsync(users);
        inAt30.Count.ShouldBeInRange(2_700, 3_300);
        (await InAsync(users)).ShouldBe(inAt30);

        Define(new FeatureFlag { Key = "new_editor", Enabled = true, RolloutPercentage = 60 });
        var inAt60 = await InAsync(users);
        inAt60.Count.ShouldBeInRange(5_700, 6_300);
        inAt30.ShouldBeSubsetOf(inAt60);

        // The hash is of the flag's key too: another flag at 30 % picks other users.
        Define(new FeatureFlag { Key = "other_flag", Enabled = true, RolloutPercentage = 30 });
        var other = new List<string>();
        foreach (var user in users)
        {
            if (await features.IsEnabledAsync("other_flag", Caller(user)))
            {
                other.Add(user);
            }
        }

        other.Intersect(inAt30).Count().ShouldBeLessThan(1_500);
    }

    [Fact]
    public async Task Platforms_and_an_app_version_range_in_semantic_order_select_callers_and_an_unknown_version_is_outside()
    {
        Define(new FeatureFlag { Key = "widgets", Enabled = true, Platforms = ["ios"], MinAppVersion = "1.10.0" });

        (await features.IsEnabledAsync("widgets", Caller("u", platform: "ios", version: "1.10.0"))).ShouldBeTrue();
        (await features.IsEnabledAsync("widgets", Caller("u", platform: "ios", version: "1.9.9"))).ShouldBeFalse();
        (await features.IsEnabledAsync("widgets", Caller("u", platform: "ios", version: "2.0.0-beta.1"))).ShouldBeTrue();
        (await features.IsEnabledAsync("widgets", Caller("u", platform: "android", version: "1.10.0"))).ShouldBeFalse();
        (await features.IsEnabledAsync("widgets", Caller("u", platform: null, version: "1.10.0"))).ShouldBeFalse();
        (await features.IsEnabledAsync("widgets", Caller("u", platform: "ios", version: "one.ten"))).ShouldBeFalse();
        (await features.IsEnabledAsync("widgets", Caller("u", platform: "ios", version: null))).ShouldBeFalse();

        Define(new FeatureFlag { Key = "widgets", Enabled = true, MaxAppVersion = "1.9.9" });
        (await features.IsEnabledAsync("widgets", Caller("u", version: "1.9.9"))).ShouldBeTrue();
        (await features.IsEnabledAsync("widgets", Caller("u", version: "1.10.0"))).ShouldBeFalse();
    }

    [Fact]
    public async Task Roles_select_signed_in_callers_and_the_kill_switch_wins_over_every_rule()
    {
        Define(new FeatureFlag { Key = "beta", Enabled = true, Roles = ["premium", "staff"] });
        (await features.IsEnabledAsync("beta", Caller("u", role: "premium"))).ShouldBeTrue();
        (await features.IsEnabledAsync("beta", Caller("u", role: "free"))).ShouldBeFalse();
        (await features.IsEnabledAsync("beta", Caller(FlagCaller.Nobody))).ShouldBeFalse();

        Define(new FeatureFlag { Key = "beta", Enabled = false, Roles = ["premium"], RolloutPercentage = 100 });
        (await features.IsEnabledAsync("beta", Caller("u", role: "premium"))).ShouldBeFalse();

        Define(new FeatureFlag { Key = "beta", Enabled = true, RolloutPercentage = 0 });
        (await features.IsEnabledAsync("beta", Caller("u", role: "staff"))).ShouldBeFalse();
        Define(new FeatureFlag { Key = "beta", Enabled = true });
        (await features.IsEnabledAsync("beta", Caller(FlagCaller.Nobody))).ShouldBeTrue();
    }

    [Fact]
    public async Task A_schedule_is_on_from_its_start_until_its_end_by_the_application_s_clock()
    {
        var start = clock.GetUtcNow().AddHours(1);
        Define(new FeatureFlag { Key = "sale", Enabled = true, StartsAt = start, EndsAt = start.AddHours(2) });

        (await features.IsEnabledAsync("sale", Caller("u"))).ShouldBeFalse();
        clock.Advance(TimeSpan.FromHours(1));
        (await features.IsEnabledAsync("sale", Caller("u"))).ShouldBeTrue();
        clock.Advance(TimeSpan.FromHours(2) - TimeSpan.FromTicks(1));
        (await features.IsEnabledAsync("sale", Caller("u"))).ShouldBeTrue();
        clock.Advance(TimeSpan.FromTicks(1));
        (await features.IsEnabledAsync("sale", Caller("u"))).ShouldBeFalse();
    }

    private void Define(FeatureFlag flag) => definitions[flag.Key] = FeatureFlagDefinitions.Define(flag);

    private async Task<List<string>> InAsync(IEnumerable<string> users)
    {
        var included = new List<string>();
        foreach (var user in users)
        {
            if (await features.IsEnabledAsync("new_editor", Caller(user)))
            {
                included.Add(user);
            }
        }

        return included;
    }

    private static FlagCaller Caller(string id, string? role = null, string? platform = null, string? version = null) =>
        new(id, role, platform, AppVersions.Parse(version));

    private sealed class InMemoryDefinitions(Dictionary<string, FeatureDefinition> definitions) : IFeatureDefinitionProvider
    {
        public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) => Task.FromResult(definitions.GetValueOrDefault(featureName)!);

        public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
        {
            await Task.CompletedTask;
            foreach (var definition in definitions.Values)
            {
                yield return definition;
            }
        }
    }
}
