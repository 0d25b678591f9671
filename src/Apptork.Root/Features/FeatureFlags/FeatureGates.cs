using System.IO.Hashing;
using System.Text;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
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
public sealed class FeatureGates(FeatureFlagDefinitions definitions, IFeatureManager features)
{
    /// <summary>
    /// Whether a gated endpoint serves this caller. A flag that does not exist is on: a fresh installation works, and
    /// an operator turns a feature off by creating its flag disabled.
    /// </summary>
    public async Task<bool> IsOnAsync(string key, FlagCaller caller, CancellationToken cancellationToken)
    {
        var flags = await definitions.FlagsAsync(cancellationToken);
        return !flags.ContainsKey(key) || await features.IsEnabledAsync(key, caller);
    }

    /// <summary>Every flag of the database and every built-in one, as this caller gets it, in key order.</summary>
    public async Task<SortedDictionary<string, bool>> EvaluateAllAsync(FlagCaller caller, CancellationToken cancellationToken)
    {
        var flags = await definitions.FlagsAsync(cancellationToken);
        var result = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        foreach (var key in flags.Keys.Union(FeatureFlagKeys.BuiltIn))
        {
            result[key] = !flags.ContainsKey(key) || await features.IsEnabledAsync(key, caller);
        }

        return result;
    }

    /// <summary>A strong validator of one evaluated result: the same flags with the same values, the same tag.</summary>
    public static string ETagOf(SortedDictionary<string, bool> flags)
    {
        var text = new StringBuilder();
        foreach (var (key, on) in flags)
        {
            text.Append(key).Append(on ? "=1;" : "=0;");
        }

        return $"\"{Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(text.ToString())))}\"";
    }
}

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
