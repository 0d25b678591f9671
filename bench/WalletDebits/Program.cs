using System.Globalization;
using Apptork.Root.Features.Auth.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace WalletDebits;

/// <summary>
/// Debits per second through the HTTP API (a bench-only route in the real application's pipeline: token validation,
/// throttling and the idempotency record in Redis, Ledger.PostAsync) against the same debit in raw SQL on the same
/// database, in the same run, with the same load loop: spread uniformly over many wallets, and all on one hot wallet.
/// </summary>
internal static class WalletDebitsBenchmark
{
    private const string Usage =
        "usage: WalletDebits <PostgreSQL connection string> <Redis connection string> [seconds per measurement = 10] [rounds = 3] [concurrency = 32] [wallets = 10000]";
    private const double SpreadGoal = 0.6;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    private static async Task<int> Main(string[] args)
    {
        if (!TryParseArguments(args, out var connectionString, out var redisConnectionString, out var duration, out var rounds, out var concurrency, out var walletCount))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 64;
        }

        await using var host = ProductHost.Start(connectionString, redisConnectionString);
        var users = await BenchWallets.SeedAsync(host.Services, walletCount + 1);
        var accessTokens = host.Services.GetRequiredService<AccessTokens>();
        // Any session id will do: an access token is validated from its signature and claims alone, no session row is read.
        var tokens = users.Select(user => accessTokens.Issue(user, Guid.NewGuid())).ToArray();
        var spreadTokens = tokens[..walletCount];
        // The hot wallet belongs to a user of its own, outside the spread.
        var (hotUser, hotToken) = (users[walletCount].Id, tokens[walletCount]);

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = host.Address };
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var api = new ApiDebits(client);
        var rawSql = new RawSqlLedger(dataSource);
        Run[] runs =
        [
            new($"API, spread: POST {ProductHost.DebitPath}", () => api.DebitAsync(spreadTokens[Random.Shared.Next(walletCount)], NewIdempotencyKey())),
            new($"API, hot: POST {ProductHost.DebitPath}", () => api.DebitAsync(hotToken, NewIdempotencyKey())),
            new("raw SQL, spread: the Ledger's statements", () => rawSql.DebitAsync(users[Random.Shared.Next(walletCount)].Id, NewIdempotencyKey())),
            new("raw SQL, hot: the Ledger's statements", () => rawSql.DebitAsync(hotUser, NewIdempotencyKey())),
        ];

        // Every token once first: an app sends the same token for its whole life, so in steady state its signature was
        // checked long ago (ValidatedTokenCache); a short run over thousands of users would otherwise mostly measure ES256.
        await Parallel.ForEachAsync(spreadTokens, new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (token, _) => await api.DebitAsync(token, NewIdempotencyKey()));
        long debitsAnswered = walletCount;
        foreach (var run in runs)
        {
            debitsAnswered += (await LoadLoop.RunAsync(concurrency, WarmUp, run.Debit)).Debits;
        }

        // Rounds, each running the four in turn, the order reversed every other round: PostgreSQL's state drifts as the
        // ledger grows (autovacuum, page splits), and a shared 2-core machine is noisy, so each figure is a median.
        var rates = runs.Select(_ => new List<double>()).ToArray();
        Console.WriteLine($"wallet debits, {concurrency} concurrent, {rounds} rounds of {duration.TotalSeconds:0} s each (spread: {walletCount:N0} wallets; hot: one)");
        for (var round = 0; round < rounds; round++)
        {
            var order = Enumerable.Range(0, runs.Length).ToArray();
            if (round % 2 == 1)
            {
                Array.Reverse(order);
            }

            foreach (var index in order)
            {
                var measurement = await LoadLoop.RunAsync(concurrency, duration, runs[index].Debit);
                debitsAnswered += measurement.Debits;
                rates[index].Add(measurement.DebitsPerSecond);
            }
        }

        Console.WriteLine($"{"",-50} {"median debits/s",16}   rounds");
        for (var index = 0; index < runs.Length; index++)
        {
            Console.WriteLine($"{runs[index].Description,-50} {Median(rates[index]),16:N0}   {string.Join(" · ", rates[index].Select(rate => rate.ToString("N0", CultureInfo.InvariantCulture)))}");
        }

        var (spreadRatio, hotRatio) = (Median(rates[0]) / Median(rates[2]), Median(rates[1]) / Median(rates[3]));
        Console.WriteLine($"ratio API/raw SQL: spread {spreadRatio:F2} (goal >= {SpreadGoal}), hot {hotRatio:F2}");
        string[] keys = ["debit_spread_per_s", "debit_hot_per_s", "raw_sql_spread_per_s", "raw_sql_hot_per_s"];
        for (var index = 0; index < runs.Length; index++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {keys[index]}={Median(rates[index]):F0}"));
        }


        var books = await BenchWallets.ReconcileAsync(host.Services, dataSource);
        var verdict = books.IsBalanced(debitsAnswered) ? "OK" : "FAILED";
        Console.WriteLine(
            $"reconciliation: {books.Wallets:N0} wallets, {books.DriftedWallets} drifted, {books.NegativeBalances} negative; " +
            $"{debitsAnswered:N0} debits answered, {books.DebitEntries:N0} debit entries, {books.CreditsDebited:N0} credits taken: {verdict}");
        return books.IsBalanced(debitsAnswered) ? 0 : 1;
    }

    private sealed record Run(string Description, Func<Task> Debit);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>What an app sends as Idempotency-Key: a random UUID. The ledger entry gets the same key on both paths.</summary>
    private static string NewIdempotencyKey() => Guid.NewGuid().ToString();

    private static bool TryParseArguments(
        string[] args, out string connectionString, out string redisConnectionString, out TimeSpan duration, out int rounds, out int concurrency,
        out int walletCount)
    {
        connectionString = args.Length > 0 ? args[0] : string.Empty;
        redisConnectionString = args.Length > 1 ? args[1] : string.Empty;
        duration = TimeSpan.Zero;
        rounds = 3;
        concurrency = 32;
        walletCount = 10_000;
        if (args.Length is < 2 or > 6 || string.IsNullOrWhiteSpace(connectionString) || string.IsNullOrWhiteSpace(redisConnectionString))
        {
            return false;
        }

        var seconds = 10;
        // All rounds within 40 minutes: the access tokens, issued once, live an hour.
        var valid = (args.Length < 3 || (int.TryParse(args[2], CultureInfo.InvariantCulture, out seconds) && seconds >= 1))
            && (args.Length < 4 || (int.TryParse(args[3], CultureInfo.InvariantCulture, out rounds) && rounds >= 1))
            && seconds * rounds * 4 <= 2400
            && (args.Length < 5 || (int.TryParse(args[4], CultureInfo.InvariantCulture, out concurrency) && concurrency >= 1))
            && (args.Length < 6 || (int.TryParse(args[5], CultureInfo.InvariantCulture, out walletCount) && walletCount >= 1));
        duration = TimeSpan.FromSeconds(seconds);
        return valid;
    }
}
