using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Wallet;

/// <summary>Posts through the application's own <see cref="Ledger"/> and reads its tables, each call in its own scope as a request would.</summary>
public sealed class WalletBooks(RootApp app)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async Task<LedgerPosting> PostAsync(
        Guid userId, long amount, string idempotencyKey, LedgerEntryKind? kind = null, string? reference = null, string? @operator = null, string? memo = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Ledger>().PostAsync(
            userId, amount, kind ?? (amount > 0 ? LedgerEntryKind.Purchase : LedgerEntryKind.Generation), idempotencyKey, reference, @operator, memo, Cancel);
    }

    public async Task<long?> BalanceAsync(Guid userId) => await WithDbAsync(db =>
        db.Wallets.Where(wallet => wallet.UserId == userId).Select(wallet => (long?)wallet.Balance).SingleOrDefaultAsync(Cancel));

    public Task<List<LedgerEntry>> EntriesAsync(Guid userId) => WithDbAsync(db =>
        db.LedgerEntries.AsNoTracking().Where(entry => entry.UserId == userId).OrderBy(entry => entry.Id).ToListAsync(Cancel));

    public async Task<IReadOnlyList<LedgerDrift>> ReconcileAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LedgerReconciliation>().CheckAsync(Cancel);
    }

    public async Task<T> WithDbAsync<T>(Func<RootDbContext, Task<T>> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<RootDbContext>());
    }

    /// <summary>The ledger's invariants for one wallet, checked here independently of <see cref="LedgerReconciliation"/>.</summary>
    public async Task ShouldAddUpAsync(Guid userId, long expectedBalance)
    {
        var balance = await BalanceAsync(userId);
        balance.ShouldBe(expectedBalance);
        var entries = await EntriesAsync(userId);
        entries.Sum(entry => entry.Amount).ShouldBe(expectedBalance);
        var running = 0L;
        var held = 0L;
        foreach (var entry in entries)
        {
            running += entry.Amount;
            held += entry.HeldChange;
            entry.BalanceAfter.ShouldBe(running, $"balance_after of entry {entry.Id}");
            entry.BalanceAfter.ShouldBeGreaterThanOrEqualTo(0);
            held.ShouldBeInRange(0, running, $"credits held after entry {entry.Id}");
        }

        (await HeldAsync(userId)).ShouldBe(held);
    }

    public async Task<long?> HeldAsync(Guid userId) => await WithDbAsync(db =>
        db.Wallets.Where(wallet => wallet.UserId == userId).Select(wallet => (long?)wallet.Held).SingleOrDefaultAsync(Cancel));
}
