using System.IO.Hashing;
using System.Text;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.FeatureManagement;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>The flags the product's own endpoints check; each is on while no row of that key exists.</summary>
public static class FeatureFlagKeys
{
    public const string AiGeneration = "ai_generation";
    public const string Checkout = "checkout";

    /// <summary>Listed to every caller even before an operator creates them.</summary>
    public static readonly IReadOnlyList<string> BuiltIn = [AiGeneration, Checkout];
}

/// <summary>Evaluates flags for a caller through FeatureManagement, over the definitions in memory.</summary>
public sealed class FeatureGates(FeatureFlagDefinitions definitions, IFeatureManager features, TimeProvider time) : IDisposable
{
    /// <summary>Bounded, so that many distinct callers cannot grow memory without limit; the least used go first.</summary>
    private readonly MemoryCache evaluated = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    /// <summary>
    /// Whether a gated endpoint serves this caller. A flag that does not exist is on: a fresh installation works, and
    /// an operator turns a feature off by creating its flag disabled.
    /// </summary>
    public async Task<bool> IsOnAsync(string key, FlagCaller caller, CancellationToken cancellationToken)
    {
        var flags = await definitions.FlagsAsync(cancellationToken);
        return !flags.ContainsKey(key) || await features.IsEnabledAsync(key, caller);
    }

    /// <summary>
    /// Every flag of the database and every built-in one, as this caller gets it, in key order, with its ETag.
    /// An app polls this at every foreground, and the library's evaluation costs some microseconds per flag and rule:
    /// a caller's result is kept until the definitions change (another snapshot) or a flag's schedule next starts or
    /// ends, whichever comes first, so a poll that changes nothing evaluates nothing.
    /// </summary>
    public async Task<EvaluatedFlags> EvaluateAllAsync(FlagCaller caller, CancellationToken cancellationToken)
    {
        var flags = await definitions.FlagsAsync(cancellationToken);
        var now = time.GetUtcNow();
        if (evaluated.TryGetValue(caller.Key, out Evaluation? kept) && ReferenceEquals(kept!.Definitions, flags) && now < kept.ValidUntil)
        {
            return kept.Result;
        }

        var values = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        foreach (var key in flags.Keys.Union(FeatureFlagKeys.BuiltIn))
        {
            values[key] = !flags.ContainsKey(key) || await features.IsEnabledAsync(key, caller);
        }

        var result = new EvaluatedFlags(values, ETagOf(values));
        evaluated.Set(caller.Key, new Evaluation(flags, NextScheduleChange(flags.Values, now), result),
            new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) });
        return result;
    }

    public void Dispose() => evaluated.Dispose();

    /// <summary>The first start or end of a schedule after <paramref name="now"/>: an evaluation holds until then.</summary>
    private static DateTimeOffset NextScheduleChange(IEnumerable<FeatureFlag> flags, DateTimeOffset now) =>
        flags.SelectMany(flag => new[] { flag.StartsAt, flag.EndsAt })
            .Where(moment => moment > now)
            .Select(moment => moment!.Value)
            .DefaultIfEmpty(DateTimeOffset.MaxValue)
            .Min();

    /// <summary>A strong validator of one evaluated result: the same flags with the same values, the same tag.</summary>
    private static string ETagOf(SortedDictionary<string, bool> flags)
    {
        var text = new StringBuilder();
        foreach (var (key, on) in flags)
        {
            text.Append(key).Append(on ? "=1;" : "=0;");
        }

        return $"\"{Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(text.ToString())))}\"";
    }

    private sealed record Evaluation(IReadOnlyDictionary<string, FeatureFlag> Definitions, DateTimeOffset ValidUntil, EvaluatedFlags Result);
}

/// <summary>Every flag as one caller gets it, and the ETag of exactly that.</summary>
public sealed record EvaluatedFlags(IReadOnlyDictionary<string, bool> Flags, string ETag);

public static class RequireFeatureExtensions
{
    /// <summary>
    /// Serves the endpoint only while the flag is on for the caller: otherwise 403 <c>feature_disabled</c> before the
    /// handler runs (so nothing is charged). Declared in the OpenAPI document.
    /// </summary>
    public static RouteHandlerBuilder RequireFeature(this RouteHandlerBuilder builder, string key) =>
        builder
            .AddEndpointFilter(async (context, next) =>
            {
                var gates = context.HttpContext.RequestServices.GetRequiredService<FeatureGates>();
                return await gates.IsOnAsync(key, FlagCaller.From(context.HttpContext), context.HttpContext.RequestAborted)
                    ? await next(context)
                    : throw ErrorCatalog.FeatureDisabled.ToException();
            })
            .ProducesErrors(ErrorCatalog.FeatureDisabled);
}
