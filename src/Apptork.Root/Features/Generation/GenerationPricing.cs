using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.ML.Tokenizers;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Usage pricing's arithmetic: the most a generation can cost (held when it is created) and what it cost (charged when
/// it ends), from the settings' prices of the configured models. Every figure is rounded up to a whole credit once, on
/// the total, and a charge never exceeds its hold.
/// </summary>
public sealed class GenerationPricing : IHostedService
{
    /// <summary>
    /// The tokens a chat API adds around one user message (its role and separators, and the reply's start): 3 + 4 for
    /// OpenAI's chat models, rounded up for other providers' templates.
    /// </summary>
    public const int MessageFramingTokens = 8;

    /// <summary>The size an image asked without one is made at, and priced at, under usage pricing.</summary>
    public const string DefaultImageSize = "1024x1024";

    private readonly GenerationOptions settings;
    private readonly AiOptions ai;
    private readonly Lazy<TiktokenTokenizer?> tokenizer;

    public GenerationPricing(IOptions<GenerationOptions> options, IOptions<AiOptions> aiOptions)
    {
        settings = options.Value;
        ai = aiOptions.Value;
        tokenizer = new Lazy<TiktokenTokenizer?>(() => TokenizerFor(ai.TextModel));
    }

    public bool ByUsage => settings.Pricing == PricingMode.Usage;

    /// <summary>Whether the text model's tokens are counted exactly (a tokenizer OpenAI publishes) or bounded by the text's UTF-8 bytes.</summary>
    public bool CountsTokensExactly => tokenizer.Value is not null;

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

        var price = TextPrice();
        var most = Credits(price, InputTokensBound(prompt), maxOutputTokens ?? settings.MaxOutputTokens);
        return Math.Max(Math.Max(most, settings.MinimumCharge), 1);
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

        var input = usage?.InputTokens ?? InputTokensBound(generation.Prompt);
        var output = usage?.OutputTokens ?? CountTokens(text ?? string.Empty);
        return Math.Min(hold, Math.Max(Credits(TextPrice(), input, output), settings.MinimumCharge));
    }

    /// <summary>Loads the tokenizer on a pool thread as the process starts rather than in the first generation's request (its vocabulary takes a few hundred milliseconds).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (ByUsage)
        {
            _ = Task.Run(() => tokenizer.Value, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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

/// <summary>Usage pricing needs a price for the text model it runs: refused at startup, naming the setting, rather than at the first generation.</summary>
public sealed class GenerationPricingValidator(IOptions<AiOptions> ai) : IValidateOptions<GenerationOptions>
{
    public ValidateOptionsResult Validate(string? name, GenerationOptions options)
    {
        if (options.Pricing != PricingMode.Usage || ai.Value.ActiveProvider == AiProvider.None)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        var model = ai.Value.TextModel;
        if (!options.Prices.TryGetValue(model, out var text))
        {
            failures.Add($"Generation__Pricing is Usage but the text model {model} has no price: set Generation__Prices__{model}__InputPer1000Tokens and __OutputPer1000Tokens.");
        }
        else if (text.InputPer1000Tokens < 0 || text.OutputPer1000Tokens < 0)
        {
            failures.Add($"Generation__Prices__{model}: a price per 1000 tokens cannot be negative.");
        }

        foreach (var (size, credits) in options.Prices.GetValueOrDefault(ai.Value.ImageModel)?.Images ?? [])
        {
            if (!GenerationOptions.ImageSizes.Contains(size) || credits < 1)
            {
                failures.Add($"Generation__Prices__{ai.Value.ImageModel}__Images__{size}: a size among {string.Join(", ", GenerationOptions.ImageSizes)}, priced at 1 credit or more.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
