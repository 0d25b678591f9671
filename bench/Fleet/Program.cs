using System.Globalization;
using System.Runtime.InteropServices;
using Apptork.Root.Features.Auth.Tokens;
using Microsoft.Extensions.DependencyInjection;
using WalletDebits;

namespace Fleet;

/// <summary>
/// bench/fleet.sh's program: one process of the fleet (<c>serve</c>), the wallets and access tokens of the debit load
/// (<c>seed</c>), and the sign-in load, which wrk cannot drive since each sign-in waits for its code by mail, received by the program itself
/// (<c>sign-ins</c>). Settings are <c>key=value</c> arguments in the product's names (<c>Auth:Secret=…</c>), the
/// same for every process of the fleet.
/// </summary>
internal static class FleetBenchmark
{
    private const string Usage = """
        usage: Fleet serve <port> <PostgreSQL connection string> <Redis connection string> [setting=value ...]
               Fleet seed <wallets> <tokens file> <PostgreSQL connection string> <Redis connection string> [setting=value ...]
               Fleet sign-ins <base URL> <SMTP port to receive the codes on> <seconds> <concurrency>
        """;

    private static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["serve", var port, var database, var redis, .. var settings] when IsCount(port, out var portNumber) && TryParseSettings(settings, out var parsed):
                await ServeAsync(portNumber, database, redis, parsed);
                return 0;
            case ["seed", var wallets, var tokensFile, var database, var redis, .. var settings] when IsCount(wallets, out var walletCount) && TryParseSettings(settings, out var parsed):
                await SeedAsync(walletCount, tokensFile, database, redis, parsed);
                return 0;
            case ["sign-ins", var baseUrl, var smtpPort, var seconds, var concurrency]
                when Uri.TryCreate(baseUrl, UriKind.Absolute, out var address) && IsCount(smtpPort, out var mailPort) && IsCount(seconds, out var duration)
                    && IsCount(concurrency, out var clients):
                var rate = await SignIns.MeasureAsync(address, mailPort, TimeSpan.FromSeconds(duration), clients);
                Console.WriteLine(rate.ToString("F1", CultureInfo.InvariantCulture));
                return 0;
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 64;
        }
    }

    /// <summary>Serves until SIGTERM or SIGINT, then stops the host as a deployment's stop would.</summary>
    private static async Task ServeAsync(int port, string database, string redis, IReadOnlyDictionary<string, string> settings)
    {
        var stop = new TaskCompletionSource();
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        await using var host = ProductHost.Start(database, redis, port, settings);
        await stop.Task;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }
    }

    /// <summary>
    /// Users with a funded wallet each, and an access token per user, one a line, signed with the fleet's key so every
    /// process accepts it. Any session id will do: a token is validated from its signature and claims alone.
    /// </summary>
    private static async Task SeedAsync(int wallets, string tokensFile, string database, string redis, IReadOnlyDictionary<string, string> settings)
    {
        await using var host = ProductHost.Start(database, redis, settings: settings);
        var users = await BenchWallets.SeedAsync(host.Services, wallets);
        var accessTokens = host.Services.GetRequiredService<AccessTokens>();
        await File.WriteAllLinesAsync(tokensFile, users.Select(user => accessTokens.Issue(user, Guid.NewGuid())));
    }

    private static bool IsCount(string text, out int count) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= 0;

    private static bool TryParseSettings(string[] arguments, out IReadOnlyDictionary<string, string> settings)
    {
        var parsed = new Dictionary<string, string>();
        foreach (var argument in arguments)
        {
            var split = argument.IndexOf('=', StringComparison.Ordinal);
            if (split <= 0)
            {
                settings = parsed;
                return false;
            }

            parsed[argument[..split]] = argument[(split + 1)..];
        }

        settings = parsed;
        return true;
    }
}
