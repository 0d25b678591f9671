using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Checkout;

/// <summary>
/// The real binary, killed with SIGKILL in the middle of webhook deliveries and checkout creations, then started again
/// while Stripe and the apps retry everything: whatever was acknowledged before the kill survived, and the retries
/// add nothing twice.
/// </summary>
public sealed class KilledProcessTests(PostgresServer postgres, SmtpServer smtp, RedisServer redis)
{
    private const int Users = 8;
    private const int Payments = 160;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A deadline, so a process that stalls instead of dying fails the run instead of hanging it.</summary>
    [Fact(Timeout = 300_000), Long]
    public async Task A_process_killed_mid_run_loses_nothing_acknowledged_and_retries_duplicate_nothing()
    {
        await using var stripe = await LocalStripe.StartAsync();
        var unlimited = new Dictionary<string, string?>(stripe.Settings)
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Throttling:Rates:anon:anonymous"] = "unlimited",
            ["Throttling:Rates:checkout:free"] = "unlimited",
            ["Throttling:Rates:otp:anonymous"] = "unlimited",
            // As production runs: the checkouts' Idempotency-Keys are in Redis, which outlives the killed process.
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"kill-{Guid.NewGuid():N}:",
        };
        var connectionString = await TestDatabases.For(postgres).CreateAsync(DatabaseShape.Postgres, "kill");

        // Accounts and payments made beforehand by an in-process instance; its tokens are good for the child (same keys).
        var tokens = new List<string>();
        var events = new List<StripeEvent>();
        await using (var setUp = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, unlimited))
        {
            var auth = new AuthClient(setUp);
            for (var index = 0; index < Users; index++)
            {
                tokens.Add((await auth.SignInAsync($"survivor{index}@example.com")).AccessToken);
            }

            var checkout = new CheckoutClient(setUp);
            for (var index = 0; index < Payments; index++)
            {
                var session = await checkout.StartOkAsync(tokens[index % Users], "starter");
                var intent = stripe.CreateIntentFor(session.Id);
                events.Add(LocalStripe.SessionCompleted(session.CheckoutUrl!.Split('/')[^1], session.Id, intent));
                if (index % 4 == 0)
                {
                    events.Add(LocalStripe.ChargeRefunded(intent, session.Amount, session.Amount));
                }
            }
        }

        var signatures = await stripe.SignAsync(events.Select(stripeEvent => stripeEvent.Json).ToList());
        var environment = RootProcess.ProductionEnvironment(connectionString, smtp, unlimited);

        var acknowledgedEvents = new ConcurrentBag<int>();
        var acknowledgedSessions = new ConcurrentDictionary<string, (string Token, Guid PaymentId)>();
        var attemptedSessions = new ConcurrentDictionary<string, string>();

        // First life: deliveries and new checkouts from 16 clients, until the process is killed under them.
        var url = RootProcess.FreeLoopbackUrl();
        var doomed = await StartAsync(environment, url);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var next = -1;
            using var killed = new CancellationTokenSource();
            var seed = TestSeed.Next();
            var clients = Enumerable.Range(0, 16).Select(client => Task.Run(async () =>
            {
                var random = new Random(seed + client);
                while (!killed.IsCancellationRequested)
                {
                    try
                    {
                        if (client % 4 == 0)
                        {
                            var key = Guid.NewGuid().ToString("N");
                            var token = tokens[random.Next(Users)];
                            attemptedSessions[key] = token;
                            using var response = await StartCheckoutAsync(http, token, key, killed.Token);
                            if (response.StatusCode == HttpStatusCode.Created)
                            {
                                var session = await response.Content.ReadFromJsonAsync<CheckoutClient.Session>(TestJson.Options, killed.Token);
                                acknowledgedSessions[key] = (token, session!.Id);
                            }

                            continue;
                        }

                        var index = Interlocked.Increment(ref next);
                        if (index >= events.Count)
                        {
                            return;
                        }

                        using var delivery = await CheckoutClient.DeliverAsync(http, events[index].Json, signatures[index], killed.Token);
                        if (delivery.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledgedEvents.Add(index);
                        }
                    }
                    catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
                    {
                        // The process died under this request: it was never acknowledged.
                    }
                }
            }, Cancel)).ToArray();

            while (acknowledgedEvents.Count < events.Count / 3)
            {
                doomed.HasExited.ShouldBeFalse($"The process died before it was killed:\n{doomed.Output}");
                await Task.Delay(10, Cancel);
            }

            await doomed.KillAsync();
            await killed.CancelAsync();
            await Task.WhenAll(clients);
        }
        finally
        {
            await doomed.DisposeAsync();
        }

        acknowledgedEvents.Count.ShouldBeLessThan(events.Count, "the process must die before every event was delivered");
        var acknowledgedBeforeKill = acknowledgedEvents.Select(index => events[index].Id).ToHashSet();

        // Second life: Stripe redelivers every event (acknowledged or not), apps retry every checkout they started.
        await using (var restarted = await StartAsync(environment, url))
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            for (var index = 0; index < events.Count; index++)
            {
                using var delivery = await CheckoutClient.DeliverAsync(http, events[index].Json, signatures[index], Cancel);
                var text = await delivery.Content.ReadAsStringAsync(Cancel);
                delivery.StatusCode.ShouldBe(HttpStatusCode.OK, text);
                if (acknowledgedBeforeKill.Contains(events[index].Id))
                {
                    text.ShouldContain("\"outcome\":\"duplicate\"", customMessage: "an event acknowledged before the kill was processed");
                }
            }

            foreach (var (key, token) in attemptedSessions)
            {
                using var retry = await StartCheckoutAsync(http, token, key, Cancel);
                if (acknowledgedSessions.TryGetValue(key, out var acknowledged))
                {
                    retry.StatusCode.ShouldBe(HttpStatusCode.Created);
                    retry.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
                    (await retry.Content.ReadFromJsonAsync<CheckoutClient.Session>(TestJson.Options, Cancel))!.Id.ShouldBe(acknowledged.PaymentId);
                }
                else
                {
                    // Never answered: created now, or still held by the dead request until it counts as abandoned.
                    retry.StatusCode.ShouldBeOneOf(HttpStatusCode.Created, HttpStatusCode.Conflict);
                }
            }
        }

        await using var inspector = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, unlimited);
        var books = new WalletBooks(inspector);
        (await books.ReconcileAsync()).ShouldBeEmpty();
        var payments = await books.WithDbAsync(db => db.Payments.AsNoTracking().ToListAsync(Cancel));
        var paid = payments.Where(payment => payment.CreditedAt != null).ToList();
        paid.Count.ShouldBe(Payments);
        paid.Count(payment => payment.Status == PaymentStatus.Refunded && payment.CreditsReversed == payment.Credits).ShouldBe(Payments / 4);
        (await books.WithDbAsync(db => db.LedgerEntries.CountAsync(entry => entry.Kind == LedgerEntryKind.Purchase, Cancel))).ShouldBe(Payments);
        (await books.WithDbAsync(db => db.ProcessedPaymentEvents.CountAsync(Cancel))).ShouldBe(events.Count);
        // Every acknowledged checkout is there; a retried key made at most one more (when its first answer never came).
        acknowledgedSessions.Values.Select(session => session.PaymentId).Except(payments.Select(payment => payment.Id)).ShouldBeEmpty();
        payments.Count.ShouldBeLessThanOrEqualTo(Payments + (2 * attemptedSessions.Count) - acknowledgedSessions.Count);
    }

    private static async Task<RootProcess.Running> StartAsync(IReadOnlyDictionary<string, string> environment, string url)
    {
        var running = RootProcess.Start(["--Urls", url], environment, RootProcess.ScratchDirectory("apptork-kill-"));
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync("/healthz/ready", Cancel);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return running;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
            }

            if (running.HasExited || DateTime.UtcNow > deadline)
            {
                await running.DisposeAsync();
                throw new InvalidOperationException($"Apptork.Root did not become ready:\n{running.Output}");
            }

            await Task.Delay(50, Cancel);
        }
    }

    private static async Task<HttpResponseMessage> StartCheckoutAsync(HttpClient http, string token, string key, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout/sessions") { Content = JsonContent.Create(new { pack_id = "starter" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Idempotency-Key", key);
        return await http.SendAsync(request, cancellationToken);
    }
}
