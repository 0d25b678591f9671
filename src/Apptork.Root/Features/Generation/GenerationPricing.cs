using System.Globalization;
using System.Text;
using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.ML.Tokenizers;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Usage pricing's arithmetic: the most a generation can cost (held when it is created) and what it cost (charged when
/// it ends), from the settings' prices of the configured models. Every figure is rounded up to a whole credit once, on
/// the total, and a charge never exceeds its hold.
/// </summary>
public sealed partial class GenerationPricing : IHostedService
{
    /// <summary>
    /// The tokens a chat API adds around one user message: about 7 for OpenAI's chat models (3 for the message's role
    /// and separators, 3 priming the reply, 1 for a name), rounded up.
    /// </summary>
    public const int MessageFramingTokens = 8;

    /// <summary>The size an image asked without one is made at, and priced at, under usage pricing.</summary>
    public const string DefaultImageSize = "1024x1024";

    private readonly GenerationOptions settings;
    private readonly AiOptions ai;
    private readonly ILogger<GenerationPricing> logger;
    private readonly Lazy<TiktokenTokenizer?> tokenizer;

    public GenerationPricing(IOptions<GenerationOptions> options, IOptions<AiOptions> aiOptions, ILogger<GenerationPricing> logger)
    {
        settings = options.Value;
        ai = aiOptions.Value;
        this.logger = logger;
        tokenizer = new Lazy<TiktokenTokenizer?>(() => TokenizerFor(ai.TextModel));
    }

    public bool ByUsage => settings.Pricing == PricingMode.Usage;

    /// <summary>
    /// The most a text generation can cost: its prompt's tokens and the chat framing at the input price, and every
    /// token it may write (<paramref name="maxOutputTokens"/>) at the output price; an image, its size's price.
    /// </summary>
    public long HoldFor(GenerationType type, string prompt, int? maxOutputTokens, string? imageSize)
    {
        if (type == GenerationType.Image)
        {
            return ImagePrice(imageSize);
        }

        var most = Credits(TextPrice(), InputTokensBound(prompt), maxOutputTokens ?? settings.MaxOutputTokens);
        return Math.Max(most, settings.MinimumCharge);
    }

    /// <summary>
    /// What a generation that succeeded cost, at most <paramref name="hold"/>: the tokens the provider reported (where it
    /// reported none, the prompt's bound and the answer counted here), at least the minimum charge; an image, its size's price.
    /// </summary>
    public long ChargeFor(Generation generation, long hold, string? text, TokenUsage? usage)
    {
        if (generation.Type == GenerationType.Image)
        {
            return Math.Min(hold, ImagePrice(generation.ImageSize));
        }

        // The prices were removed since the hold (pricing switched back to fixed while it ran): the fixed price, within the hold.
        if (settings.Prices.GetValueOrDefault(ai.TextModel) is not { } price)
        {
            return Math.Min(hold, settings.TextCost);
        }

        var input = usage?.InputTokens ?? InputTokensBound(generation.Prompt);
        var output = usage?.OutputTokens ?? CountTokens(text ?? string.Empty);
        return Math.Min(hold, Math.Max(Credits(price, input, output), settings.MinimumCharge));
    }

    /// <summary>
    /// Under usage pricing, logs the prices in effect, loading the tokenizer on a pool thread as the process starts rather
    /// than in the first generation's request (its vocabulary takes a few hundred milliseconds).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (ByUsage && ai.ActiveProvider != AiProvider.None)
        {
            // What the operator set, as this process reads it: the first thing to check when a charge looks wrong.
            var price = TextPrice();
            _ = Task.Run(
                () => LogUsagePricing(
                    logger, ai.TextModel, price.InputPer1000Tokens, price.OutputPer1000Tokens, settings.MinimumCharge,
                    tokenizer.Value is not null ? "its published tokenizer (exact)" : "their UTF-8 bytes (no published tokenizer: an upper bound)"),
                CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Generations are priced by usage: {Model} at {InputPrice} credits per 1,000 input tokens and {OutputPrice} per 1,000 output tokens, at least {MinimumCharge}; prompts counted by {Counter}")]
    private static partial void LogUsagePricing(ILogger logger, string model, decimal inputPrice, decimal outputPrice, long minimumCharge, string counter);

    private int InputTokensBound(string prompt) => CountTokens(prompt) + MessageFramingTokens;

    /// <summary>Exact for a model whose tokenizer is known; otherwise the UTF-8 byte count, which no byte-level tokenizer exceeds.</summary>
    private int CountTokens(string text) => tokenizer.Value?.CountTokens(text) ?? Encoding.UTF8.GetByteCount(text);

    private static long Credits(ModelPrice price, long inputTokens, long outputTokens) =>
        (long)decimal.Ceiling((inputTokens * price.InputPer1000Tokens + outputTokens * price.OutputPer1000Tokens) / 1000m);

    private ModelPrice TextPrice() =>
        settings.Prices.GetValueOrDefault(ai.TextModel) ?? throw new InvalidOperationException($"No price for the text model {ai.TextModel}; startup validation requires one.");

    private long ImagePrice(string? size)
    {
        var priced = settings.Prices.GetValueOrDefault(ai.ImageModel)?.Images.GetValueOrDefault(size ?? DefaultImageSize) ?? 0;
        return priced > 0 ? priced : settings.ImageCost;
    }

    /// <summary>OpenAI's published tokenizer for the model (o200k_base for the GPT-4o family and later, cl100k_base for GPT-4 and 3.5); null for any other.</summary>
    private static TiktokenTokenizer? TokenizerFor(string model)
    {
        try
        {
            return TiktokenTokenizer.CreateForModel(model);
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}

/// <summary>
/// The prices as written, read from the configuration itself (the binder silently drops a misspelled key, and a value it
/// cannot convert inside a dictionary): every bad one is refused at startup, naming it; and usage pricing needs both
/// text prices of the model it runs, so that no part of a generation is free by omission.
/// </summary>
public sealed class GenerationPricingValidator(IOptions<AiOptions> ai, IConfiguration configuration) : IValidateOptions<GenerationOptions>
{
    private const string InputKey = nameof(ModelPrice.InputPer1000Tokens);
    private const string OutputKey = nameof(ModelPrice.OutputPer1000Tokens);
    private const string ImagesKey = nameof(ModelPrice.Images);

    public ValidateOptionsResult Validate(string? name, GenerationOptions options)
    {
        var failures = new List<string>();
        foreach (var model in configuration.GetSection($"{GenerationOptions.Section}:{nameof(GenerationOptions.Prices)}").GetChildren())
        {
            foreach (var price in model.GetChildren())
            {
                var setting = SettingsValidation.ToEnvironmentName(price.Path);
                if (Is(price.Key, InputKey) || Is(price.Key, OutputKey))
                {
                    if (!decimal.TryParse(price.Value, NumberStyles.Number, CultureInfo.InvariantCulture, out var credits) || credits < 0)
                    {
                        failures.Add($"{setting} is '{price.Value}', which is not a number of credits of 0 or more (fractions allowed: 0.15).");
                    }
                }
                else if (Is(price.Key, ImagesKey))
                {
                    foreach (var size in price.GetChildren())
                    {
                        if (!GenerationOptions.ImageSizes.Contains(size.Key) || !long.TryParse(size.Value, CultureInfo.InvariantCulture, out var credits) || credits < 1)
                        {
                            failures.Add($"{SettingsValidation.ToEnvironmentName(size.Path)}: a size among {string.Join(", ", GenerationOptions.ImageSizes)}, priced at a whole number of credits, 1 or more.");
                        }
                    }
                }
                else
                {
                    failures.Add($"{setting} is not a price: a model's prices are {InputKey}, {OutputKey} and {ImagesKey}__<size>.");
                }
            }
        }

        var textModel = ai.Value.TextModel;
        var written = configuration.GetSection($"{GenerationOptions.Section}:{nameof(GenerationOptions.Prices)}:{textModel}");
        var missing = new[] { InputKey, OutputKey }.Where(key => string.IsNullOrWhiteSpace(written[key])).ToList();
        if (options.Pricing == PricingMode.Usage && ai.Value.ActiveProvider != AiProvider.None && missing.Count > 0)
        {
            failures.Add(
                $"Generation__Pricing is Usage but the text model {textModel} has no {(missing.Count == 2 ? "price" : $"{missing[0]} price")}: set "
                + $"Generation__Prices__{textModel}__{InputKey} and Generation__Prices__{textModel}__{OutputKey} (credits per 1,000 tokens; 0 for free).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool Is(string key, string name) => string.Equals(key, name, StringComparison.OrdinalIgnoreCase);
}
