namespace Apptork.Root.Features.Fraud;

/// <summary>Fraud prevention: email normalization, the disposable-domain list and the operators' domain rules.</summary>
public static class FraudModule
{
    public static IServiceCollection AddFraud(this IServiceCollection services)
    {
        services.AddSingleton(_ => DisposableEmailDomains.Shipped);
        services.AddSingleton<EmailDomainPolicy>();
        services.AddHostedService<DisposableEmailDomainsWarmUp>();
        return services;
    }
}
