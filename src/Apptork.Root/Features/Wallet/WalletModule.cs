using Apptork.Root.Platform.Configuration;
using FluentValidation;

namespace Apptork.Root.Features.Wallet;

public static class WalletModule
{
    public static IServiceCollection AddWallet(this IServiceCollection services)
    {
        services.AddSettings<WalletOptions>(WalletOptions.Section);
        services.AddScoped<Ledger>();
        services.AddScoped<SignupBonus>();
        services.AddScoped<LedgerReconciliation>();
        services.AddSingleton<IValidator<TransactionFilter>, TransactionFilterValidator>();
        return services;
    }
}
