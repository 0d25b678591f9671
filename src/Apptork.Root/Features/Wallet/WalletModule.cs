using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Hosting;
using FluentValidation;

namespace Apptork.Root.Features.Wallet;

public static class WalletModule
{
    public static IServiceCollection AddWallet(this IServiceCollection services)
    {
        services.AddSettings<WalletOptions>(WalletOptions.Section);
        services.AddScoped<Ledger>();
        services.AddScoped<SignupBonus>();
        services.AddSingleton<IFeatureCommand, ReconcileCommand>();
        services.AddScoped<LedgerReconciliation>();
        services.AddSingleton<IValidator<TransactionFilter>, TransactionFilterValidator>();
        return services;
    }
}
