using FluentValidation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.FeatureManagement;

namespace Apptork.Root.Features.FeatureFlags;

public static class FeatureFlagsModule
{
    public static WebApplicationBuilder AddFeatureFlags(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<FeatureFlagDefinitions>();
        // Registers the library's manager and its built-in filters (targeting among them); ours then replaces its
        // configuration-file provider, so definitions come from the database.
        services.AddFeatureManagement()
            .AddFeatureFilter<RolesFilter>()
            .AddFeatureFilter<PlatformsFilter>()
            .AddFeatureFilter<AppVersionsFilter>()
            .AddFeatureFilter<ScheduleFilter>();
        services.RemoveAll<IFeatureDefinitionProvider>();
        services.AddSingleton<IFeatureDefinitionProvider>(provider => provider.GetRequiredService<FeatureFlagDefinitions>());
        services.AddSingleton<FeatureGates>();
        services.AddScoped<FeatureFlagChanges>();
        services.AddHostedService<FeatureFlagsWarmUp>();
        services.AddSingleton<IValidator<FeatureFlagBody>, FeatureFlagBodyValidator>();
        services.AddSingleton<IValidator<FeatureFlagUpdateBody>, FeatureFlagUpdateBodyValidator>();
        return builder;
    }
}

/// <summary>Reads the flags before the process serves: the first requests then find them in memory.</summary>
internal sealed class FeatureFlagsWarmUp(FeatureFlagDefinitions definitions) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => definitions.WarmUpAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
