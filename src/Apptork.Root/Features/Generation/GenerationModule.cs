using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;
using FluentValidation;
using Microsoft.Extensions.Options;

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
        services.AddSingleton<IGenerationProvider>(provider => provider.GetRequiredService<IOptions<AiOptions>>().Value.ActiveProvider switch
        {
            AiProvider.OpenAI => new OpenAiGenerationProvider(provider.GetRequiredService<IOptions<AiOptions>>()),
            AiProvider.Offline => new OfflineGenerationProvider(),
            _ => new UnavailableGenerationProvider(),
        });
        services.AddSingleton<GenerationStreamUrls>();
        services.AddScoped<GenerationJob>();
        // In every role: a worker too dispatches what a dead api process left owed.
        services.AddSingleton<GenerationDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<GenerationDispatcher>());
        services.AddScoped<IRecurringJob, GenerationRecoveryJob>();
        services.AddSingleton<IValidator<GenerationBody>, GenerationBodyValidator>();
        return builder;
    }
}
