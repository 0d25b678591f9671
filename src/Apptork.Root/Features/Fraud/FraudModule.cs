using Apptork.Root.Platform.Configuration;

namespace Apptork.Root.Features.Fraud;

/// <summary>
/// Fraud prevention: email normalization, the disposable-domain list, the operators' domain rules and deduplication
/// at registration.
/// </summary>
public static class FraudModule
{
    public static WebApplicationBuilder AddFraud(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(_ => DisposableEmailDomains.Shipped);
        services.AddSingleton<EmailDomainPolicy>();
        services.AddScoped<EmailDomainRules>();
        services.AddHostedService<DisposableEmailDomainsWarmUp>();
        services.AddSettings<RegistrationOptions>(RegistrationOptions.Section);
        services.AddScoped<RegistrationGuard>();
        return builder;
    }
}
