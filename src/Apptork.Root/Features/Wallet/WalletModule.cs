using FluentValidation;

namespace Apptork.Root.Features.Wallet;

public static class WalletModule
{
    public static IServiceCollection AddWallet(this IServiceCollection services)
    {
        services.AddScoped<Ledger>();
        services.AddScoped<LedgerReconciliation>();
        services.AddSingleton<IValidator<TransactionFilter>, TransactionFilterValidator>();
        return services;
    }
}
