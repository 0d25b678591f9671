using System.Net;
using System.Text.Json.Nodes;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Generations;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Admin;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.ML.Tokenizers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// Usage pricing against the local OpenAI-compatible server reporting chosen usages: a generation holds the most it can
/// cost, is charged the tokens it used and releases the rest, in the ledger and over HTTP, on both databases.
/// </summary>
public sealed class UsagePricingTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    /// <summary>The prices the tests set for the local text model, in credits per 1,000 tokens.</summary>
    private const decimal InputPrice = 2m;
    private const decimal OutputPrice = 10m;

    private static Dictionary<string, string?> UsagePriced(LocalOpenAi ai, string textModel = "local-text", decimal input = InputPrice, decimal output = OutputPrice) =>
        new(ai.Settings)
        {
            ["Ai:TextModel"] = textModel,
            ["Generation:Pricing"] = "Usage",
            [$"Generation:Prices:{textModel}:InputPer1000Tokens"] = input.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"Generation:Prices:{textModel}:OutputPer1000Tokens"] = output.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Generation:MaxAttempts"] = "1",
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Throttling:Rates:ai_generation:free"] = "unlimited",
        };

    private static long Ceiling(decimal credits) => (long)decimal.Ceiling(credits);

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_text_generation_holds_its_most_is_charged_its_usage_times_the_price_and_releases_the_rest(DatabaseShape shape)
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.HoldAfterWords = 2;
        ai.ReportedUsage = _ => (1200, 700);
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, UsagePriced(ai));
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("metered@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 100, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);

        const string prompt = "write about ledgers";
        var created = await client.CreateOkAsync("text", prompt, new { max_output_tokens = 1000 });
        // A model without a published tokenizer: the prompt's UTF-8 bytes bound its tokens, plus the chat framing.
        var hold = Ceiling(((prompt.Length + GenerationPricing.MessageFramingTokens) * InputPrice + 1000 * OutputPrice) / 1000);
        (created.Cost, created.Held).ShouldBe((0L, hold));
        await ai.Held.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        var whileRunning = await WalletEndpointTests.GetWalletAsync(auth, signedIn.AccessToken);
        (whileRunning.Balance, whileRunning.Held, whileRunning.Available).ShouldBe((100L, hold, 100 - hold));
        var requested = ai.Requests.Single();
        requested["max_completion_tokens"]?.GetValue<int>().ShouldBe(1000, requested.ToJsonString());

        ai.HoldRelease.SetResult();
        var done = await client.WaitAsync(created.Id, "succeeded");
        var charge = Ceiling((1200 * InputPrice + 700 * OutputPrice) / 1000);
        charge.ShouldBeLessThan(hold);
        (done.Cost, done.Held, done.Usage).ShouldBe((charge, 0L, new GenerationClient.Usage(1200, 700)));

        var wallet = await WalletEndpointTests.GetWalletAsync(auth, signedIn.AccessToken);
        (wallet.Balance, wallet.Held, wallet.Available).ShouldBe((100 - charge, 0L, 100 - charge));
        var transactions = await WalletEndpointTests.ListAsync(auth, signedIn.AccessToken, string.Empty);
        transactions.Results.Select(entry => (entry.Kind, entry.Amount, entry.HeldChange, entry.Reference)).ShouldBe([
            ("release", 0L, -(hold - charge), $"generation:{created.Id}"),
            ("generation", -charge, -charge, $"generation:{created.Id}"),
            ("hold", 0L, hold, $"generation:{created.Id}"),
            ("adjustment", 100L, 0L, (string?)null),
        ]);
        await books.ShouldAddUpAsync(signedIn.User.Id, 100 - charge);
        (await books.ReconcileAsync()).ShouldBeEmpty();

        // Support sees what it held, what it was charged and the tokens behind the charge.
        var support = await StaffSeed.EnrolledAsync(app, "support@example.com", StaffRoles.Support);
        using var admin = new AdminClient(app.Client().BaseAddress!);
        await admin.SignInAsync(support.Email, support.Password, support.NextCode());
        var page = (await admin.GetAsync($"{AdminClient.Path}/generations/{created.Id}")).Body;
        page.ShouldContain($"<dd id=\"generation-hold\">{hold}</dd>");
        page.ShouldContain("<dd id=\"generation-tokens\">1200 / 700</dd>");
    }

    [Fact]
    public async Task A_known_model_holds_by_its_tokenizer_and_an_answer_without_reported_usage_is_counted_by_it()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.ReportedUsage = _ => null;
        // One credit per token, so the figures are token counts.
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, UsagePriced(ai, "gpt-4o-mini", 1000, 1000));
        var signedIn = await new AuthClient(app).SignInAsync("counted@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 1000, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);

        const string prompt = "Summarize the history of double-entry bookkeeping in three sentences, please.";
        var tokenizer = TiktokenTokenizer.CreateForModel("gpt-4o-mini");
        var promptTokens = tokenizer.CountTokens(prompt) + GenerationPricing.MessageFramingTokens;
        promptTokens.ShouldBeLessThan(prompt.Length / 2, "the tokenizer counts tokens, not bytes");
        var created = await client.CreateOkAsync("text", prompt, new { max_output_tokens = 300 });
        created.Held.ShouldBe(promptTokens + 300);

        var done = await client.WaitAsync(created.Id, "succeeded");
        done.Usage.ShouldBeNull();
        done.Cost.ShouldBe(promptTokens + tokenizer.CountTokens(done.ResultText!));
        await books.ShouldAddUpAsync(signedIn.User.Id, 1000 - done.Cost);
        (await books.HeldAsync(signedIn.User.Id)).ShouldBe(0);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_failed_generation_releases_its_whole_hold_and_a_staff_retry_runs_free(DatabaseShape shape)
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.Behaviour = AiBehaviour.Fail;
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, UsagePriced(ai));
        var signedIn = await new AuthClient(app).SignInAsync("unlucky@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 50, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);

        var created = await client.CreateOkAsync("text", "this will fail", new { max_output_tokens = 2000 });
        created.Held.ShouldBeGreaterThan(20);
        var failed = await client.WaitAsync(created.Id, "failed");
        (failed.Cost, failed.Held).ShouldBe((0L, 0L));
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Kind, entry.Amount, entry.HeldChange)).ShouldBe([
            (LedgerEntryKind.Adjustment, 50L, 0L), (LedgerEntryKind.Hold, 0L, created.Held), (LedgerEntryKind.Release, 0L, -created.Held),
        ]);

        // Staff retry our failure: the user is not charged again, and holds nothing.
        ai.Behaviour = AiBehaviour.Answer;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var version = (await books.WithDbAsync(db => db.Generations.AsNoTracking().SingleAsync(Cancel))).UpdatedAt.UtcTicks;
            var retried = await scope.ServiceProvider.GetRequiredService<GenerationOperations>()
                .RetryAsync(created.Id, version, "provider outage", new AuditActor(null, "support@example.com", IPAddress.Loopback), Cancel);
            retried.Error.ShouldBeNull();
        }

        var queued = await client.GetAsync(created.Id);
        queued.Held.ShouldBe(0);
        var done = await client.WaitAsync(created.Id, "succeeded");
        done.Cost.ShouldBe(0);
        (await books.EntriesAsync(signedIn.User.Id)).Count.ShouldBe(3);
        await books.ShouldAddUpAsync(signedIn.User.Id, 50);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Fifty_concurrent_generations_on_a_small_balance_never_overdraw_what_is_available_and_are_each_charged_once(DatabaseShape shape)
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.HoldAfterWords = 1;
        var settings = UsagePriced(ai, input: 0, output: 1.5m);
        settings["Ai:TimeoutSeconds"] = "60";
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape, settings);
        var auth = new AuthClient(app);
        var signedIn = await auth.SignInAsync("crowd@example.com");
        var books = new WalletBooks(app);
        const long balance = 30;
        await books.PostAsync(signedIn.User.Id, balance, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        // 2,000 output tokens at 1.5 credits per 1,000: 3 credits held each, so ten fit in the balance.
        const long hold = 3;

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async number =>
        {
            using var response = await client.CreateAsync("text", $"crowd {number}", Guid.NewGuid().ToString(), new { max_output_tokens = 2000 });
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!;
            return (response.StatusCode, Body: body);
        }));
        answers.ShouldAllBe(answer => answer.StatusCode == HttpStatusCode.Accepted || answer.StatusCode == HttpStatusCode.PaymentRequired);
        var accepted = answers.Where(answer => answer.StatusCode == HttpStatusCode.Accepted).Select(answer => answer.Body["id"]!.GetValue<Guid>()).ToList();
        accepted.Count.ShouldBe((int)(balance / hold));
        answers.Where(answer => answer.StatusCode == HttpStatusCode.PaymentRequired)
            .ShouldAllBe(answer => answer.Body["errors"]![0]!["code"]!.GetValue<string>() == "invalid_credit");
        answers.Where(answer => answer.StatusCode == HttpStatusCode.Accepted).ShouldAllBe(answer => answer.Body["held"]!.GetValue<long>() == hold);
        var duringHolds = await WalletEndpointTests.GetWalletAsync(auth, signedIn.AccessToken);
        (duringHolds.Balance, duringHolds.Held, duringHolds.Available).ShouldBe((balance, balance, 0L));

        ai.HoldRelease.SetResult();
        foreach (var id in accepted)
        {
            (await client.WaitAsync(id, "succeeded")).Cost.ShouldBe(1, "5 output tokens at 1.5 credits per 1,000, rounded up to a credit");
        }

        var entries = await books.EntriesAsync(signedIn.User.Id);
        foreach (var id in accepted)
        {
            entries.Where(entry => entry.Reference == $"generation:{id}").Select(entry => (entry.Kind, entry.Amount, entry.HeldChange))
                .ShouldBe([(LedgerEntryKind.Hold, 0L, hold), (LedgerEntryKind.Generation, -1L, -1L), (LedgerEntryKind.Release, 0L, 1 - hold)]);
        }

        await books.ShouldAddUpAsync(signedIn.User.Id, balance - accepted.Count);
        (await books.ReconcileAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_generation_no_worker_finishes_in_time_is_given_up_by_the_sweep_and_its_hold_released()
    {
        await using var ai = await LocalOpenAi.StartAsync();
        ai.HoldAfterWords = 1;
        var settings = UsagePriced(ai);
        settings["Ai:TimeoutSeconds"] = "60";
        settings["Generation:StaleAfterSeconds"] = "5";
        settings["Generation:GiveUpAfterSeconds"] = "5";
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, settings);
        var signedIn = await new AuthClient(app).SignInAsync("abandoned@example.com");
        var books = new WalletBooks(app);
        await books.PostAsync(signedIn.User.Id, 40, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        var created = await client.CreateOkAsync("text", "never finished", new { max_output_tokens = 1000 });
        await ai.Held.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        // Not yet stale: the sweep leaves a running generation alone.
        await RunRecoveryAsync(app);
        (await client.GetAsync(created.Id)).Status.ShouldBe("running");

        await Task.Delay(TimeSpan.FromSeconds(5.5), Cancel);
        await RunRecoveryAsync(app);
        var given = await client.GetAsync(created.Id);
        (given.Status, given.Cost, given.Held).ShouldBe(("failed", 0L, 0L));

        // The provider answers at last; the worker's run no longer holds the generation and books nothing.
        ai.HoldRelease.SetResult();
        await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
        (await client.GetAsync(created.Id)).Status.ShouldBe("failed");
        (await books.EntriesAsync(signedIn.User.Id)).Select(entry => (entry.Kind, entry.HeldChange)).ShouldBe([
            (LedgerEntryKind.Adjustment, 0L), (LedgerEntryKind.Hold, created.Held), (LedgerEntryKind.Release, -created.Held),
        ]);
        await books.ShouldAddUpAsync(signedIn.User.Id, 40);
    }

    [Fact]
    public async Task Usage_pricing_without_a_price_for_the_text_model_refuses_to_start_naming_the_setting()
    {
        var output = await RootProcess.RefusedStartAsync(new Dictionary<string, string>
        {
            ["Ai__Provider"] = "OpenAI", ["Ai__ApiKey"] = LocalOpenAi.ApiKey, ["Ai__TextModel"] = "gpt-4o-mini",
            ["Generation__Pricing"] = "Usage", ["Generation__Prices__gpt-4o__OutputPer1000Tokens"] = "10",
        });

        output.ShouldContain("Generation__Pricing is Usage but the text model gpt-4o-mini has no price: set Generation__Prices__gpt-4o-mini__InputPer1000Tokens");
    }

    /// <param name="key">A setting written on top of a valid price list; its value null removes it.</param>
    [Theory]
    [InlineData("Generation:Prices:gpt-4o-mini:OutputPer1000Tokens", null, "has no OutputPer1000Tokens price: set Generation__Prices__gpt-4o-mini__InputPer1000Tokens and Generation__Prices__gpt-4o-mini__OutputPer1000Tokens")]
    [InlineData("Generation:Prices:gpt-4o-mini:OutputPer1000Token", "10", "Generation__Prices__gpt-4o-mini__OutputPer1000Token is not a price: a model's prices are InputPer1000Tokens, OutputPer1000Tokens and Images__<size>")]
    [InlineData("Generation:Prices:gpt-4o-mini:InputPer1000Tokens", "abc", "Generation__Prices__gpt-4o-mini__InputPer1000Tokens is 'abc', which is not a number of credits of 0 or more")]
    [InlineData("Generation:Prices:gpt-image-1:Images:512x512", "3", "Generation__Prices__gpt-image-1__Images__512x512: a size among")]
    public void Usage_pricing_refuses_a_missing_misspelled_or_unreadable_price_naming_it(string key, string? value, string refusal)
    {
        var written = new Dictionary<string, string?>
        {
            ["Generation:Pricing"] = "Usage",
            ["Generation:Prices:gpt-4o-mini:InputPer1000Tokens"] = "2",
            ["Generation:Prices:gpt-4o-mini:OutputPer1000Tokens"] = "10",
        };
        Validate(written).Succeeded.ShouldBeTrue();

        if (value is null)
        {
            written.Remove(key);
        }
        else
        {
            written[key] = value;
        }

        Validate(written).FailureMessage.ShouldNotBeNull().ShouldContain(refusal);

        static ValidateOptionsResult Validate(Dictionary<string, string?> written) => new GenerationPricingValidator(
                Options.Create(new AiOptions { Provider = AiProvider.OpenAI, TextModel = "gpt-4o-mini" }),
                new ConfigurationBuilder().AddInMemoryCollection(written).Build())
            .Validate(null, new GenerationOptions { Pricing = PricingMode.Usage });
    }

    private static async Task RunRecoveryAsync(RootApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetServices<Apptork.Root.Platform.Jobs.IRecurringJob>().OfType<GenerationRecoveryJob>().Single().RunAsync(Cancel);
    }
}
