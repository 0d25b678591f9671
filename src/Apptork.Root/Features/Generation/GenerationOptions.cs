using System.ComponentModel.DataAnnotations;
using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>The <c>Generation__*</c> settings: what generations cost and how failures are retried.</summary>
public sealed class GenerationOptions
{
    public const string Section = "Generation";
    public const int MaxPromptLengthLimit = 8000;

    /// <summary>The server-side gate: off, creating a generation answers 403 <c>feature_disabled</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// <c>Fixed</c>: a generation is charged <see cref="TextCost"/> or <see cref="ImageCost"/> when created. <c>Usage</c>:
    /// it holds the most it can cost when created and is charged what it used (<see cref="Prices"/>) when it ends.
    /// </summary>
    public PricingMode Pricing { get; set; } = PricingMode.Fixed;

    /// <summary>A text generation's price under fixed pricing.</summary>
    [Range(1, 1_000_000)]
    public long TextCost { get; set; } = 1;

    /// <summary>An image generation's price under fixed pricing, and under usage pricing for a size <see cref="Prices"/> does not name.</summary>
    [Range(1, 1_000_000)]
    public long ImageCost { get; set; } = 5;

    /// <summary>Usage pricing: the prices of each model, by its name (<c>Generation__Prices__gpt-4o-mini__OutputPer1000Tokens</c>).</summary>
    public Dictionary<string, ModelPrice> Prices { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Usage pricing: the least a text generation that succeeded is charged, however few tokens it used.</summary>
    [Range(0, 1_000_000)]
    public long MinimumCharge { get; set; } = 1;

    /// <summary>
    /// A generation no worker has finished this long after its creation fails, its hold released or its fixed charge
    /// refunded (the recovery sweep): credits are never held, nor paid for, by a job lost for good.
    /// </summary>
    [Range(5, 30 * 86_400)]
    public int GiveUpAfterSeconds { get; set; } = 86_400;

    [Range(1, MaxPromptLengthLimit)]
    public int MaxPromptLength { get; set; } = 4000;

    /// <summary>Attempts before a generation fails for good and its cost is refunded.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The first retry's delay; each next one doubles it.</summary>
    [Range(0, 3600)]
    public int RetryDelaySeconds { get; set; } = 5;

    /// <summary>
    /// A generation still unfinished this long after its last change is taken to have lost its worker (a killed process):
    /// its job may claim it again. Keep it well above <c>Ai__TimeoutSeconds</c>, or a slow but live call could run twice.
    /// </summary>
    [Range(5, 86_400)]
    public int StaleAfterSeconds { get; set; } = 900;

    /// <summary>
    /// How often every process looks for generations whose job is still owed (their creating process died between its
    /// commit and the dispatch): the longest such a generation waits for its job.
    /// </summary>
    [Range(1, 3600)]
    public int DispatchSweepSeconds { get; set; } = 5;

    /// <summary>
    /// How long a signed event-stream link (<c>POST /generations/{id}/stream-url</c>) may be opened: long enough to
    /// hand it to an <c>EventSource</c>, short enough that a leaked one is soon worthless. An open stream is not cut.
    /// </summary>
    [Range(1, 3600)]
    public int StreamUrlSeconds { get; set; } = 300;

    /// <summary>
    /// How long a text generation's streamed pieces are kept after the last one (a Redis Stream per generation in the
    /// production shape): a client that reconnects within it gets exactly what it missed; later, the final text whole.
    /// </summary>
    [Range(10, 86_400)]
    public int DeltaRetentionSeconds { get; set; } = 300;

    /// <summary>The longest text answer a request may ask for (<c>options.max_output_tokens</c>).</summary>
    [Range(1, 1_000_000)]
    public int MaxOutputTokens { get; set; } = 4096;

    /// <summary>The image sizes a request may ask for (<c>options.size</c>): those gpt-image-1 and its compatibles make.</summary>
    public static IReadOnlySet<string> ImageSizes { get; } = new HashSet<string>(StringComparer.Ordinal) { "1024x1024", "1024x1536", "1536x1024" };

    public long CostOf(GenerationType type) => type == GenerationType.Image ? ImageCost : TextCost;
}

public enum PricingMode
{
    Fixed,
    Usage,
}

/// <summary>One model's prices under usage pricing, in credits.</summary>
public sealed class ModelPrice
{
    /// <summary>Credits per 1,000 tokens the model reads (the prompt); fractions allowed (0.5). Checked by <see cref="GenerationPricingValidator"/>.</summary>
    public decimal InputPer1000Tokens { get; set; }

    /// <summary>Credits per 1,000 tokens the model writes (the answer); fractions allowed.</summary>
    public decimal OutputPer1000Tokens { get; set; }

    /// <summary>An image model's credits per image, by size (<c>Generation__Prices__gpt-image-1__Images__1024x1024</c>).</summary>
    public Dictionary<string, long> Images { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public enum AiProvider
{
    /// <summary>Generation is off: creating one answers 404 <c>ai_not_configured</c> (the production shape's default).</summary>
    None,
    /// <summary>Deterministic text and a generated PNG, no network (the embedded shape only, and its default).</summary>
    Offline,
    /// <summary>Any OpenAI-compatible HTTP API.</summary>
    OpenAI,
}

public sealed class AiSettingsValidator(RuntimeShape shape) : IValidateOptions<AiOptions>
{
    public ValidateOptionsResult Validate(string? name, AiOptions options)
    {
        var failures = new List<string>();
        var provider = options.ActiveProvider;
        if (provider == AiProvider.Offline && shape.IsProduction)
        {
            failures.Add("Ai__Provider is Offline, which works only in the embedded shape (it answers canned text); set Ai__Provider=OpenAI and Ai__ApiKey.");
        }
        else if (provider == AiProvider.OpenAI)
        {
            if (string.IsNullOrWhiteSpace(options.ApiKey))
            {
                failures.Add("Ai__ApiKey is required when Ai__Provider=OpenAI.");
            }

            ProviderUrls.Check("Ai__Endpoint", options.Endpoint, shape, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
