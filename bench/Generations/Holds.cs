using System.Diagnostics;
using System.Globalization;

namespace Generations;

/// <summary>
/// What usage pricing costs a generation's creation: the same api build, in this process, creating text generations
/// under fixed pricing (a debit) and under usage pricing (the prompt counted with the model's tokenizer, a hold), in
/// alternating rounds of many clients at once; no worker runs, so the creations alone are measured.
/// </summary>
internal static class HoldsBenchmark
{
    private const int Clients = 32;
    private const int Rounds = 5;
    private const int WarmUps = 300;

    /// <summary>A prompt of a realistic length (about 90 tokens), different each time.</summary>
    private static string Prompt(int index) => string.Create(CultureInfo.InvariantCulture, $"Request {index}: ")
        + "write a short, friendly product description for a reusable water bottle made of stainless steel, "
        + "mention that it keeps drinks cold for a day and hot for twelve hours, that it fits in a car cup holder, and end "
        + "with one sentence inviting the reader to try it. Keep it under eighty words and avoid exclamation marks.";

    public static async Task<int> RunAsync(string connectionString, int creations)
    {
        await using var provider = await NoOpProvider.StartAsync();
        var model = new Dictionary<string, string> { ["Ai:TextModel"] = "gpt-4o-mini" };
        await using var fixedApi = GenerationHost.Start(connectionString, provider.Endpoint, "api", model);
        await using var usageApi = GenerationHost.Start(connectionString, provider.Endpoint, "api", new Dictionary<string, string>(model)
        {
            ["Generation:Pricing"] = "Usage",
            ["Generation:Prices:gpt-4o-mini:InputPer1000Tokens"] = "0.15",
            ["Generation:Prices:gpt-4o-mini:OutputPer1000Tokens"] = "0.6",
        });
        // Usage pricing holds 3 credits per generation here (4,096 output tokens at 0.6 per 1,000, rounded up).
        var credits = 4L * (WarmUps + Rounds * creations);
        using var fixedHttp = await GenerationsBenchmark.SignedInClientAsync(fixedApi, credits);
        using var usageHttp = await GenerationsBenchmark.SignedInClientAsync(usageApi, credits);

        await CreateManyAsync(fixedHttp, WarmUps, "warm-up fixed");
        await CreateManyAsync(usageHttp, WarmUps, "warm-up usage");
        var fixedRates = new List<double>();
        var usageRates = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            fixedRates.Add(await CreateManyAsync(fixedHttp, creations, $"fixed {round}"));
            usageRates.Add(await CreateManyAsync(usageHttp, creations, $"usage {round}"));
        }

        var fixedMedian = Median(fixedRates);
        var usageMedian = Median(usageRates);
        Console.WriteLine($"text generation creations, {Clients} clients, {creations} per round, median of {Rounds} alternating rounds, on PostgreSQL");
        Console.WriteLine($"{"fixed price: a debit (baseline)",-58} {fixedMedian,8:F0} /s");
        Console.WriteLine($"{"usage pricing: tokenizer-counted prompt, a hold",-58} {usageMedian,8:F0} /s");
        Console.WriteLine($"ratio usage to fixed: {usageMedian / fixedMedian:F2}");
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_create_fixed_per_s={fixedMedian:F0}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_create_usage_per_s={usageMedian:F0}"));
        Console.WriteLine(FormattableString.Invariant($"RESULT generation_create_usage_ratio={usageMedian / fixedMedian:F2}"));
        return 0;
    }

    /// <summary>Creations per second, <see cref="Clients"/> at once.</summary>
    private static async Task<double> CreateManyAsync(HttpClient http, int count, string label)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Clients },
            async (index, _) => await GenerationsBenchmark.CreateAsync(http, Prompt(index) + $" ({label})"));
        return count / clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
