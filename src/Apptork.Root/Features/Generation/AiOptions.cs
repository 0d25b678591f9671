using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Generation;

/// <summary>The <c>Ai__*</c> settings.</summary>
public sealed class AiOptions
{
    public const string Section = "Ai";

    /// <summary>Unset: Offline in the embedded shape, None in production.</summary>
    public AiProvider? Provider { get; set; }

    public AiProvider ActiveProvider => Provider ?? AiProvider.None;

    public string Endpoint { get; set; } = "https://api.openai.com/v1";

    public string? ApiKey { get; set; }

    public string TextModel { get; set; } = "gpt-4o-mini";

    public string ImageModel { get; set; } = "gpt-image-1";

    /// <summary>One provider call; a slower answer counts as a failed attempt.</summary>
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 120;
}
