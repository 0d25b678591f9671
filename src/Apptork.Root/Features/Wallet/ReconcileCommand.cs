using Apptork.Root.Platform.Hosting;

namespace Apptork.Root.Features.Wallet;

/// <summary>
/// <c>Apptork.Root reconcile</c>: proves every wallet against its ledger and exits non-zero on any drift, so a cron job
/// or a deployment check can alert on it.
/// </summary>
public sealed partial class ReconcileCommand(ILogger<ReconcileCommand> logger) : IFeatureCommand
{
    public const int DriftExitCode = 65;

    public string Name => "reconcile";

    public async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var drifts = await services.GetRequiredService<LedgerReconciliation>().CheckAsync(cancellationToken);
        foreach (var drift in drifts)
        {
            LogDrift(logger, drift.UserId, drift.Balance, drift.SumOfEntries, drift.Held, drift.SumOfHeldChanges, drift.FirstBrokenEntryId);
        }

        if (drifts.Count == 0)
        {
            LogReconciled(logger);
            return 0;
        }

        return DriftExitCode;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Ledger drift: wallet of user {UserId} holds {Balance}, its entries sum to {Sum}; held {Held}, held changes sum to {HeldSum}; first broken entry {EntryId}")]
    private static partial void LogDrift(ILogger logger, Guid userId, long balance, long sum, long held, long heldSum, long? entryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Every wallet reconciles with its ledger")]
    private static partial void LogReconciled(ILogger logger);
}
