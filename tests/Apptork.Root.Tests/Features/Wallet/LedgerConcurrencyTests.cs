using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Checkout;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Wallet;

/// <summary>
/// The bank test: many clients at once, for a while, against two application instances on one database, spending
/// (debits with Idempotency-Keys, and replays of them) while Stripe pays and refunds (webhooks, and redeliveries of
/// them). Afterwards the books must prove that nothing was lost, nothing counted twice and nothing went negative.
/// </summary>
public sealed class LedgerConcurrencyTests(PostgresServer postgres, RedisServer redis)
{
    private const string Debits = "/test/bank/debits";
    private const int Users = 16;
    private const int Payments = 240;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>There is no product endpoint that only debits (generations will be one): this one runs inside the whole product pipeline.</summary>
    private static RootApp.TestExtensions DebitRoute { get; } = new(endpoints =>
        endpoints.MapPost(Debits, async (DebitBody body, HttpContext context, Ledger ledger, CancellationToken cancellationToken) =>
        {
            var key = context.Request.Headers[IdempotencyMiddleware.Header].ToString();
            var posting = await ledger.PostAsync(
                context.User.UserId(), -body.Credits, LedgerEntryKind.Generation, $"bank:{key}", null, null, null, cancellationToken);
            return TypedResults.Ok(new DebitAnswer(posting.Entry.Id, posting.Entry.BalanceAfter));
        }).RequireAuthorization().Idempotent());

    // A deadline, so a stalled instance fails the run instead of hanging it: the run is 20 s, setting up and checking take a minute or two.
    private const int Deadline = 300_000;

    [Fact(Timeout = Deadline), Long]
    public Task On_PostgreSQL_and_Redis_64_clients_on_two_instances_lose_and_duplicate_nothing() => RunAsync(DatabaseShape.Postgres, clients: 64);

    /// <summary>SQLite has one writer at a time, shared by both processes' connections: fewer clients, the same guarantees.</summary>
    [Fact(Timeout = Deadline), Long]
    public Task On_SQLite_16_clients_on_two_instances_lose_and_duplicate_nothing() => RunAsync(DatabaseShape.Sqlite, clients: 16);

    private async Task RunAsync(DatabaseShape shape, int clients)
    {
        await using var stripe = await LocalStripe.StartAsync();
        var settings = new Dictionary<string, string?>(stripe.Settings)
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Throttling:Rates:anon:anonymous"] = "unlimited",
            ["Throttling:Rates:checkout:free"] = "unlimited",
            ["Throttling:Rates:otp:anonymous"] = "unlimited",
            // Both instances sign and accept the same tokens: in the embedded shape that is one key folder, as for two processes on one machine.
            ["Auth:KeyDirectory"] = Directory.CreateTempSubdirectory("apptork-bank-keys-").FullName,
        };
        if (shape == DatabaseShape.Postgres)
        {
            // The production shape: both instances share their Idempotency-Keys and throttle counts in Redis.
            settings["ConnectionStrings:Redis"] = redis.ConnectionString;
            settings["Redis:KeyPrefix"] = $"bank-{Guid.NewGuid():N}:";
        }

        var connectionString = await TestDatabases.For(postgres).CreateAsync(shape, "bank");
        await using var first = await RootApp.StartOnAsync(shape, connectionString, settings, DebitRoute);
        await using var second = await RootApp.StartOnAsync(shape, connectionString, settings, DebitRoute);
        var instances = new[] { first.Client(), second.Client() };

        var auth = new AuthClient(first);
        var tokens = new List<(Guid User, string Token)>();
        for (var index = 0; index < Users; index++)
        {
            var signedIn = await auth.SignInAsync($"depositor{index}@example.com");
            tokens.Add((signedIn.User.Id, signedIn.AccessToken));
        }

        // Payments made before the run, and what Stripe will say about them: completion for all, full refunds for a quarter.
        var checkout = new CheckoutClient(first);
        var sessions = await Task.WhenAll(Enumerable.Range(0, Payments).Select(index =>
            checkout.StartOkAsync(tokens[index % Users].Token, "starter")));
        var events = new List<StripeEvent>();
        foreach (var (session, index) in sessions.Select((session, index) => (session, index)))
        {
            var intent = stripe.CreateIntentFor(session.Id);
            events.Add(LocalStripe.SessionCompleted(session.CheckoutUrl!.Split('/')[^1], session.Id, intent));
            if (index % 4 == 0)
            {
                events.Add(LocalStripe.ChargeRefunded(intent, session.Amount, session.Amount));
            }
        }

        var signatures = await stripe.SignAsync(events.Select(stripeEvent => stripeEvent.Json).ToList());
        var seed = TestSeed.Next();
        var shuffle = new Random(seed);
        var undelivered = new ConcurrentQueue<int>(Enumerable.Range(0, events.Count).OrderBy(_ => shuffle.Next()));
        var delivered = new ConcurrentBag<int>();
        var acknowledgedDebits = new ConcurrentDictionary<(Guid User, string Key), (long Credits, string Answer)>();
        var refusedDebits = new ConcurrentBag<(Guid User, string Key)>();
        var recentDebits = tokens.ToDictionary(token => token.User, _ => new ConcurrentQueue<string>());
        var unexpected = new ConcurrentQueue<string>();
        var operations = 0;

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(seed + 1 + client);
            var http = instances[client % instances.Length];
            while (clock.Elapsed < Duration)
            {
                Interlocked.Increment(ref operations);
                var (user, token) = tokens[random.Next(tokens.Count)];
                var roll = random.Next(100);
                if (roll < 55)
                {
                    var key = Guid.NewGuid().ToString("N");
                    var credits = random.Next(1, 4);
                    using var response = await DebitAsync(http, token, key, credits);
                    var answer = await response.Content.ReadAsStringAsync(Cancel);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledgedDebits[(user, key)] = (credits, answer);
                        var recent = recentDebits[user];
                        recent.Enqueue(key);
                        if (recent.Count > 64)
                        {
                            recent.TryDequeue(out _);
                        }
                    }
                    else if (response.StatusCode == HttpStatusCode.PaymentRequired)
                    {
                        refusedDebits.Add((user, key));
                    }
                    else
                    {
                        unexpected.Enqueue($"debit: {(int)response.StatusCode} {answer}");
                    }
                }
                else if (roll < 70 && recentDebits[user].ToArray() is { Length: > 0 } mine)
                {
                    var replayed = mine[random.Next(mine.Length)];
                    var (credits, answer) = acknowledgedDebits[(user, replayed)];
                    using var response = await DebitAsync(http, token, replayed, (int)credits);
                    var text = await response.Content.ReadAsStringAsync(Cancel);
                    if (response.StatusCode != HttpStatusCode.OK || text != answer)
                    {
                        unexpected.Enqueue($"replay: {(int)response.StatusCode} {text}, first answer {answer}");
                    }
                }
                else if (roll < 95)
                {
                    var index = undelivered.TryDequeue(out var next) ? next
                        : delivered.IsEmpty ? -1 : delivered.ElementAt(random.Next(delivered.Count));
                    if (index < 0)
                    {
                        continue;
                    }

                    using var response = await CheckoutClient.DeliverAsync(http, events[index].Json, signatures[index], Cancel);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        delivered.Add(index);
                    }
                    else
                    {
                        // Stripe redelivers what was not acknowledged; so does this test, at the end.
                        undelivered.Enqueue(index);
                        unexpected.Enqueue($"webhook: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Cancel)}");
                    }
                }
                else
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/wallet");
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    using var response = await http.SendAsync(request, Cancel);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        unexpected.Enqueue($"wallet: {(int)response.StatusCode}");
                    }
                }
            }
        }, Cancel)));

        // Stripe keeps delivering until each event is acknowledged.
        while (undelivered.TryDequeue(out var index))
        {
            using var response = await CheckoutClient.DeliverAsync(instances[index % 2], events[index].Json, signatures[index], Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        }

        TestContext.Current.SendDiagnosticMessage(
            $"bank test on {shape}: {operations} operations by {clients} clients in {clock.Elapsed.TotalSeconds:0.0} s; "
            + $"{acknowledgedDebits.Count} debits, {refusedDebits.Count} refused for funds, {delivered.Count} webhook deliveries");
        unexpected.Count.ShouldBe(0, string.Join('\n', unexpected.Take(5)));
        acknowledgedDebits.Count.ShouldBeGreaterThan(clients);
        delivered.Count.ShouldBeGreaterThan(events.Count);

        var books = new WalletBooks(first);
        (await books.ReconcileAsync()).ShouldBeEmpty();
        (await books.WithDbAsync(db => db.Wallets.CountAsync(wallet => wallet.Balance < 0, Cancel))).ShouldBe(0);

        // Every acknowledged debit is in the ledger exactly once with its amount, and nothing else was debited.
        var debitEntries = await books.WithDbAsync(db => db.LedgerEntries.AsNoTracking()
            .Where(entry => entry.IdempotencyKey.StartsWith("bank:")).Select(entry => new { entry.UserId, entry.IdempotencyKey, entry.Amount }).ToListAsync(Cancel));
        debitEntries.Select(entry => (entry.UserId, entry.IdempotencyKey[5..], -entry.Amount)).OrderBy(entry => entry.Item2)
            .ShouldBe(acknowledgedDebits.Select(debit => (debit.Key.User, debit.Key.Key, debit.Value.Credits)).OrderBy(entry => entry.Key));

        // Every payment was credited once; every refunded one taken back whole, from the wallet or as shortfall.
        var payments = await books.WithDbAsync(db => db.Payments.AsNoTracking().ToListAsync(Cancel));
        payments.Count.ShouldBe(Payments);
        payments.ShouldAllBe(payment => payment.CreditedAt != null);
        payments.Count(payment => payment.Status == PaymentStatus.Refunded && payment.CreditsReversed == payment.Credits).ShouldBe(Payments / 4);
        var purchases = await books.WithDbAsync(db => db.LedgerEntries.CountAsync(entry => entry.Kind == LedgerEntryKind.Purchase, Cancel));
        purchases.ShouldBe(Payments);
        var reversed = await books.WithDbAsync(db => db.LedgerEntries.Where(entry => entry.Kind == LedgerEntryKind.Reversal)
            .SumAsync(entry => entry.UserId == SystemAccounts.Shortfall ? entry.Amount : -entry.Amount, Cancel));
        reversed.ShouldBe(payments.Sum(payment => payment.CreditsReversed));
        (await books.BalanceAsync(SystemAccounts.Shortfall)).ShouldBe(payments.Sum(payment => payment.ShortfallCredits));
        (await books.WithDbAsync(db => db.ProcessedPaymentEvents.CountAsync(Cancel))).ShouldBe(events.Count);
    }

    private static async Task<HttpResponseMessage> DebitAsync(HttpClient http, string token, string key, int credits)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Debits) { Content = JsonContent.Create(new DebitBody(credits)) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add(IdempotencyMiddleware.Header, key);
        var response = await http.SendAsync(request, Cancel);
        // The first request with the key may still be running on the other instance: wait as Retry-After says.
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            response.Dispose();
            await Task.Delay(100, Cancel);
            return await DebitAsync(http, token, key, credits);
        }

        return response;
    }

    private sealed record DebitBody(int Credits);

    private sealed record DebitAnswer(long EntryId, long BalanceAfter);
}
