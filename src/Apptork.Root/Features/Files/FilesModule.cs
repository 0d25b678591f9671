using FluentValidation;

namespace Apptork.Root.Features.Files;

public static class FilesModule
{
    public static IServiceCollection AddFiles(this IServiceCollection services) =>
        services.AddSingleton<IValidator<UploadBody>, UploadBodyValidator>();
}
