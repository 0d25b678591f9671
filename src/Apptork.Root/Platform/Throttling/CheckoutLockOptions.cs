namespace Apptork.Root.Platform.Throttling;

/// <summary><c>Throttling__CheckoutLock__*</c>: how many failed payments lock checkout, and for how long.</summary>
public sealed class CheckoutLockOptions
{
    /// <summary><c>5/hour</c>: this many failed payments of one user, or from one device, within the window lock checkout.</summary>
    public string Failures { get; set; } = "5/hour";

    /// <summary><c>24h</c>: how long the lock lasts. Long, because repeated failures are what card testing looks like.</summary>
    public string Duration { get; set; } = "24h";
}
