namespace Apptork.Root.Platform.Throttling;

/// <summary>The <c>Throttling__*</c> settings; every value is checked when the process starts (<see cref="ThrottleRates"/>).</summary>
public sealed class ThrottlingOptions
{
    public const string Section = "Throttling";

    /// <summary><c>Throttling__Rates__&lt;scope&gt;__&lt;role&gt;=10/minute</c>: overrides of <see cref="ThrottleRates.Defaults"/>.</summary>
    public Dictionary<string, Dictionary<string, string>> Rates { get; } = new(StringComparer.OrdinalIgnoreCase);

    public CheckoutLockOptions CheckoutLock { get; set; } = new();
}

/// <summary><c>Throttling__CheckoutLock__*</c>: how many failed payments lock checkout, and for how long.</summary>
public sealed class CheckoutLockOptions
{
    /// <summary><c>5/hour</c>: this many failed payments of one user, or from one device, within the window lock checkout.</summary>
    public string Failures { get; set; } = "5/hour";

    /// <summary><c>24h</c>: how long the lock lasts. Long, because repeated failures are what card testing looks like.</summary>
    public string Duration { get; set; } = "24h";
}
