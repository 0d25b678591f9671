using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Redis;
using FluentValidation;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Apptork.Root.Features.Generation;

public static class GenerationModule
{
    public static WebApplicationBuilder AddGeneration(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<GenerationOptions>(GenerationOptions.Section);
        services.AddSettings<AiOptions>(AiOptions.Section)
            .PostConfigure<RuntimeShape>((options, shape) => options.Provider ??= shape.IsEmbedded ? AiProvider.Offline : AiProvider.None);
        services.AddSingleton<IValidateOptions<AiOptions>, AiSettingsValidator>();
        services.AddSingleton<IValidateOptions<GenerationOptions>, GenerationPricingValidator>();
        services.AddSingleton<GenerationPricing>();
        services.AddHostedService(provider => provider.GetRequiredService<GenerationPricing>());
        services.AddSingleton<IGenerationProvider>(provider => provider.GetRequiredService<IOptions<AiOptions>>().Value.ActiveProvider switch
        {
            AiProvider.OpenAI => new OpenAiGenerationProvider(provider.GetRequiredService<IOptions<AiOptions>>()),
            AiProvider.Offline => new OfflineGenerationProvider(),
            _ => new UnavailableGenerationProvider(),
        });
        services.AddSingleton<GenerationStreamUrls>();
        // Wherever the job runs, the client's api process reads its pieces: through Redis when there is one.
        services.AddSingleton<IGenerationDeltas>(provider => provider.GetService<IConnectionMultiplexer>() is { } redis
            ? ActivatorUtilities.CreateInstance<RedisGenerationDeltas>(provider, redis)
            : ActivatorUtilities.CreateInstance<InProcessGenerationDeltas>(provider));
        services.AddScoped<GenerationJob>();
        services.AddScoped<GenerationOutcomes>();
        services.AddScoped<GenerationEvents>();
        services.AddSingleton<OwedGenerations>();
        services.AddHostedService(provider => provider.GetRequiredService<OwedGenerations>());
        // Moving a job into Hangfire costs a dozen statements, more than creating the generation: with Redis to wake them,
        // the processes that run jobs do it and an api process only commits and announces; without Redis an api process
        // could not wake another, so it dispatches what it creates. A worker also sweeps up what a dead process left owed.
        var shape = RuntimeShape.From(builder.Configuration);
        if (shape.Role.RunsJobs() || string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(RedisOptions.ConnectionStringName)))
        {
            services.AddHostedService<GenerationDispatcher>();
        }

        services.AddScoped<IRecurringJob, GenerationRecoveryJob>();
        services.AddSingleton<IValidator<GenerationBody>, GenerationBodyValidator>();
        return builder;
    }
}
