using Apptork.Root.Platform.Configuration;
using FluentValidation;

namespace Apptork.Root.Features.Checkout;

public static class CheckoutModule
{
    public static WebApplicationBuilder AddCheckout(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<PaymentsOptions>(PaymentsOptions.Section)
            .PostConfigure<RuntimeShape>((options, shape) => options.Provider ??= shape.IsEmbedded ? CheckoutProvider.Development : CheckoutProvider.None);
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<PaymentsOptions>, PaymentsSettingsValidator>();
        services.AddHttpClient(StripeGateway.HttpClientName);
        services.AddScoped<StripeGateway>();
        services.AddKeyedScoped<IPaymentGateway>(PaymentProvider.Stripe, (provider, _) => provider.GetRequiredService<StripeGateway>());
        services.AddSingleton<DevelopmentPaymentLinks>();
        services.AddKeyedSingleton<IPaymentGateway, DevelopmentGateway>(PaymentProvider.Development);
        services.AddSettings<CheckoutLockOptions>(CheckoutLockOptions.Section);
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<CheckoutLockOptions>, CheckoutLockOptions.Validator>();
        services.AddSingleton<CheckoutLock>();
        services.AddScoped<PaymentSettlement>();
        services.AddScoped<StripeWebhooks>();
        services.AddSingleton<IValidator<CheckoutSessionBody>, CheckoutSessionBodyValidator>();
        return builder;
    }
}
