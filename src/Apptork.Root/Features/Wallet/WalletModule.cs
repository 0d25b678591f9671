using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using FluentValidation;

namespace Apptork.Root.Features.Wallet;

public static class WalletModule
{
    public static WebApplicationBuilder AddWallet(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<WalletOptions>(WalletOptions.Section);
        services.AddScoped<Ledger>();
        services.AddSingleton<IWalletPostingSql>(provider => provider.GetRequiredService<RuntimeShape>().Database == DatabaseProvider.Postgres
            ? new PostgresWalletPostingSql()
            : new SqliteWalletPostingSql());
        services.AddScoped<SignupBonus>();
        services.AddSingleton<IFeatureCommand, ReconcileCommand>();
        services.AddScoped<LedgerReconciliation>();
        services.AddScoped<IRecurringJob, LedgerReconciliationJob>();
        services.AddSingleton<IValidator<TransactionFilter>, TransactionFilterValidator>();
        return builder;
    }
}
