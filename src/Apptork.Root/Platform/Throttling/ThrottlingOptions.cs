namespace Apptork.Root.Platform.Throttling;

/// <summary>The <c>Throttling__*</c> settings; every value is checked when the process starts (<see cref="ThrottleRates"/>).</summary>
public sealed class ThrottlingOptions
{
    public const string Section = "Throttling";

    /// <summary><c>Throttling__Rates__&lt;scope&gt;__&lt;role&gt;=10/minute</c>: overrides of <see cref="ThrottleRates.Defaults"/>.</summary>
    public Dictionary<string, Dictionary<string, string>> Rates { get; } = new(StringComparer.OrdinalIgnoreCase);

    public CheckoutLockOptions CheckoutLock { get; set; } = new();
}
