using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Wallet;

/// <summary><c>Apptork.Root reconcile</c>, run as an operator's cron job would run it against the production database.</summary>
public sealed class ReconcileCommandTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reconcile_exits_zero_on_clean_books_and_names_the_wallet_that_drifted()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var user = (await new AuthClient(app).SignInAsync("books@example.com")).User.Id;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<Ledger>()
                .PostAsync(user, 30, LedgerEntryKind.Adjustment, "seed", null, "ops", "seed", Cancel);
        }

        var settings = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Postgres"] = app.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!,
        };
        var clean = await RootProcess.RunAsync(["reconcile"], settings, TimeSpan.FromSeconds(60));
        clean.ExitCode.ShouldBe(0, clean.Output);
        clean.Output.ShouldContain("Every wallet reconciles");

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
            // Bypassing the ledger, as a hand-run statement or a bug would: the balance no longer matches the entries.
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE wallets SET balance = 31 WHERE user_id = {user}", Cancel);
        }

        var drifted = await RootProcess.RunAsync(["reconcile"], settings, TimeSpan.FromSeconds(60));
        drifted.ExitCode.ShouldBe(ReconcileCommand.DriftExitCode, drifted.Output);
        drifted.Output.ShouldContain($"wallet of user {user} holds 31, its entries sum to 30");
    }
}
