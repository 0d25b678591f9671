using Apptork.Root.Platform.Jobs;
using FluentValidation;

namespace Apptork.Root.Features.Files;

public static class FilesModule
{
    public static WebApplicationBuilder AddFiles(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidator<UploadBody>, UploadBodyValidator>();
        builder.Services.AddScoped<FileDeletion>();
        builder.Services.AddScoped<StoredObjectDeletionJob>();
        builder.Services.AddScoped<IRecurringJob, AbandonedUploadCleanupJob>();
        return builder;
    }
}
