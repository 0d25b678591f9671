using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Email;

public static class EmailSetup
{
    /// <summary>
    /// Email settings (checked at start), the templates, the in-memory queue and its background senders. The provider is chosen
    /// from the validated settings when first needed, not while composing, so the <c>migrate</c> command never reads them.
    /// </summary>
    public static IServiceCollection AddEmail(this IServiceCollection services)
    {
        services.AddSettings<EmailOptions>(EmailOptions.Section);
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailSettingsValidator>();
        services.AddSingleton<LogEmailSender>();
        services.AddSingleton<SmtpEmailSender>();
        services.AddSingleton<IEmailSender>(provider => provider.GetRequiredService<IOptions<EmailOptions>>().Value.Provider switch
        {
            EmailProvider.Smtp => provider.GetRequiredService<SmtpEmailSender>(),
            _ => provider.GetRequiredService<LogEmailSender>(),
        });
        services.AddSingleton<EmailTemplates>();
        services.AddSingleton<BackgroundEmailQueue>();
        services.AddSingleton<IEmailQueue>(provider => provider.GetRequiredService<BackgroundEmailQueue>());
        services.AddHostedService(provider => provider.GetRequiredService<BackgroundEmailQueue>());
        return services;
    }
}
