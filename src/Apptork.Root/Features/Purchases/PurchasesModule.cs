using Apptork.Root.Platform.Configuration;
using FluentValidation;

namespace Apptork.Root.Features.Purchases;

/// <summary>
/// In-app purchases, a feature of its own beside checkout: checkout starts a payment and waits for the provider, a store
/// purchase arrives paid and is verified. Both end as checkout's payments, settled by its one settlement path.
/// </summary>
public static class PurchasesModule
{
    public static WebApplicationBuilder AddPurchases(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<PurchasesOptions>(PurchasesOptions.Section);
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<PurchasesOptions>, PurchasesSettingsValidator>();
        services.AddSingleton<AppleStoreSettings>();
        services.AddSingleton<AppStoreSignedData>();
        services.AddScoped<StorePurchases>();
        services.AddScoped<AppStorePurchases>();
        services.AddSingleton<IValidator<ApplePurchaseBody>, ApplePurchaseBodyValidator>();
        services.AddSingleton<GooglePlaySettings>();
        services.AddHttpClient(GooglePlayApi.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<GooglePlayApi>();
        services.AddSingleton<GooglePlayNotificationTokens>();
        services.AddScoped<GooglePlayPurchases>();
        services.AddScoped<Platform.Jobs.IRecurringJob, GooglePlayVoidedPurchasesJob>();
        services.AddSingleton<IValidator<GooglePurchaseBody>, GooglePurchaseBodyValidator>();
        return builder;
    }
}
