using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Storage;

public static class StorageSetup
{
    public static IServiceCollection AddFileStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<StorageOptions>(StorageOptions.Section);
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageSettingsValidator>();
        // Read leniently: a mistyped provider is reported by name with the other settings, when the process starts.
        if (SettingNames.TryParse<StorageProvider>(configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Provider)}"] ?? string.Empty, out var provider)
            && provider == StorageProvider.S3)
        {
            services.AddSingleton(serviceProvider => S3FileStorage.CreateClient(serviceProvider.GetRequiredService<IOptions<StorageOptions>>().Value));
            services.AddSingleton<IFileStorage, S3FileStorage>();
        }
        else
        {
            services.AddSingleton<IFileStorage, LocalFileStorage>();
            services.AddHostedService<SingleHostStorageWarning>();
        }

        return services;
    }
}
