using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Dashboard;

/// <summary>
/// The dashboard's numbers, read straight from the tables: a handful of aggregate queries on indexed columns, and the
/// failed jobs Hangfire's storage counts (null when the job storage does not answer: the health summary says why).
/// Credits are totalled over the last <see cref="LedgerWindowDays"/> days, a range of the ledger's (created_at, id)
/// index: totals over the whole ledger took 750 ms at a million entries (bench/admin-pages.sh), and grow with it.
/// </summary>
public sealed record DashboardFigures(
    int Users,
    int SignUpsLast24Hours,
    long CreditsSold,
    long CreditsSpent,
    IReadOnlyList<DashboardFigures.LedgerKindTotal> LedgerByKind,
    IReadOnlyList<DashboardFigures.GenerationStatusCount> GenerationsByStatus,
    int FailedGenerationsLast24Hours,
    long? FailedJobs)
{
    public const int LedgerWindowDays = 30;

    public sealed record LedgerKindTotal(string Kind, int Entries, long Credits);

    public sealed record GenerationStatusCount(string Status, int Count);

    public static async Task<DashboardFigures> ReadAsync(RootDbContext database, JobStorage jobs, TimeProvider time, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().AddHours(-24);
        var people = database.Users.AsNoTracking().Where(user => user.DeletedAt == null && !SystemAccounts.All.Contains(user.Id));
        var users = await people.CountAsync(cancellationToken);
        var signUps = await people.CountAsync(user => user.CreatedAt >= since, cancellationToken);
        var ledgerSince = time.GetUtcNow().AddDays(-LedgerWindowDays);
        var ledger = await database.LedgerEntries.AsNoTracking()
            .Where(entry => entry.CreatedAt >= ledgerSince)
            .GroupBy(entry => entry.Kind)
            .Select(kind => new { Kind = kind.Key, Entries = kind.Count(), Credits = kind.Sum(entry => entry.Amount) })
            .ToListAsync(cancellationToken);
        var generations = await database.Generations.AsNoTracking()
            .GroupBy(generation => generation.Status)
            .Select(status => new { Status = status.Key, Count = status.Count() })
            .ToListAsync(cancellationToken);

        // On the (status, updated_at) index: a failed generation's last update is its failure.
        var failedGenerations = await database.Generations.AsNoTracking()
            .CountAsync(generation => generation.Status == GenerationStatus.Failed && generation.UpdatedAt >= since, cancellationToken);
        long? failedJobs;
        try
        {
            // Hangfire's storage calls are synchronous: off the request's thread.
            failedJobs = await Task.Run(() => jobs.GetMonitoringApi().FailedCount(), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            failedJobs = null;
        }

        long Credits(LedgerEntryKind kind) => ledger.Where(total => total.Kind == kind).Sum(total => total.Credits);
        return new DashboardFigures(
            users,
            signUps,
            Credits(LedgerEntryKind.Purchase),
            // Spending is what generations took, less what failed generations gave back.
            -(Credits(LedgerEntryKind.Generation) + Credits(LedgerEntryKind.Refund)),
            ledger.OrderBy(total => total.Kind).Select(total => new LedgerKindTotal(LedgerEntry.KindName(total.Kind), total.Entries, total.Credits)).ToList(),
            Enum.GetValues<GenerationStatus>()
                .Select(status => new GenerationStatusCount(status.ToString().ToLowerInvariant(), generations.FirstOrDefault(row => row.Status == status)?.Count ?? 0))
                .ToList(),
            failedGenerations,
            failedJobs);
    }
}
