using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Jobs;
using FluentValidation;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

public static class GenerationModule
{
    public static IServiceCollection AddGeneration(this IServiceCollection services, IConfiguration configuration)
    {
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
        services.AddScoped<GenerationJob>();
        services.AddScoped<IRecurringJob, GenerationRecoveryJob>();
        services.AddSingleton<IValidator<GenerationBody>, GenerationBodyValidator>();
        return services;
    }
}

/// <summary>With <c>Ai__Provider=None</c> no generation is created; one queued before the switch fails (and is refunded) rather than wait.</summary>
internal sealed class UnavailableGenerationProvider : IGenerationProvider
{
    public Task<string> GenerateTextAsync(string prompt, int? maxOutputTokens, CancellationToken cancellationToken) => throw Unavailable();

    public Task<ImageOutput> GenerateImageAsync(string prompt, string? size, CancellationToken cancellationToken) => throw Unavailable();

    private static InvalidOperationException Unavailable() => new("Ai__Provider is None: no AI provider is configured.");
}
