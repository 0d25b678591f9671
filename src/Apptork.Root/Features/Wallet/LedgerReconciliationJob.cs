using Apptork.Root.Platform.Jobs;
using Hangfire;

namespace Apptork.Root.Features.Wallet;

/// <summary>Every hour, <see cref="LedgerReconciliation"/> over all wallets: a drift is logged as critical, naming the wallet.</summary>
public sealed partial class LedgerReconciliationJob(LedgerReconciliation reconciliation, ILogger<LedgerReconciliationJob> logger) : IRecurringJob
{
    public string Id => "ledger-reconciliation";

    public string Schedule => Cron.Hourly();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var drifts = await reconciliation.CheckAsync(cancellationToken);
        foreach (var drift in drifts)
        {
            LogDrift(logger, drift.UserId, drift.Balance, drift.SumOfEntries, drift.Held, drift.SumOfHeldChanges, drift.FirstBrokenEntryId);
        }

        if (drifts.Count == 0)
        {
            LogBalanced(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Ledger drift: wallet {UserId} has balance {Balance} and its entries sum to {SumOfEntries}, held {Held} and its held changes sum to {SumOfHeldChanges} (first broken entry: {FirstBrokenEntryId})")]
    private static partial void LogDrift(ILogger logger, Guid userId, long balance, long sumOfEntries, long held, long sumOfHeldChanges, long? firstBrokenEntryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger reconciled: every wallet equals the sum of its entries")]
    private static partial void LogBalanced(ILogger logger);
}
