using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Redis;
using Apptork.Root.Platform.Throttling;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Checkout;

/// <summary>
/// Locks checkout for a user, and for a device whoever signs in on it, after repeated failed payments
/// (<c>Throttling__CheckoutLock__Failures</c> within its window lock it for <c>Throttling__CheckoutLock__Duration</c>):
/// repeated declines are what card testing looks like. Kept in the throttling store, so every process sees one count.
/// Fails closed: while the store is unreachable both calls answer 503.
/// </summary>
public sealed class CheckoutLock(IThrottleStore store, RedisKeys keys, IOptions<CheckoutLockOptions> options)
{
    private const string FailuresKey = "checkout-failures";
    private const string LockKey = "checkout-lock";

    // Reading options.Value runs the validator (CheckoutLockOptions.Validator), which refuses both settings unless they parse.
    private readonly Rate failures = Rate.Parse(options.Value.Failures);
    private readonly Rate lockWindow = new(1, Rate.ParseDuration(options.Value.Duration));

    /// <summary>Counts a failed payment against the user and the device; the one that reaches the limit locks its subject.</summary>
    /// <param name="deviceIdHash">The hashed <c>X-Device-Id</c>, when the client sent one.</param>
    public async Task RecordFailedPaymentAsync(Guid userId, string? deviceIdHash, CancellationToken cancellationToken)
    {
        foreach (var subject in Subjects(userId, deviceIdHash))
        {
            var counted = await GuardAsync(() => store.HitAsync(keys.Named(FailuresKey, subject), failures, cancellationToken));
            if (counted.Count >= failures.Limit)
            {
                // A lock already running keeps its end: the hit is simply not counted.
                await GuardAsync(() => store.HitAsync(keys.Named(LockKey, subject), lockWindow, cancellationToken));
            }
        }
    }

    /// <summary>Throws 423 <c>checkout_locked</c>, with when to retry, while the user or the device is locked.</summary>
    public async Task EnsureCheckoutAllowedAsync(Guid userId, string? deviceIdHash, CancellationToken cancellationToken)
    {
        var wait = TimeSpan.Zero;
        foreach (var subject in Subjects(userId, deviceIdHash))
        {
            var locked = await GuardAsync(() => store.PeekAsync(keys.Named(LockKey, subject), cancellationToken));
            if (locked.Count > 0 && locked.ResetAfter > wait)
            {
                wait = locked.ResetAfter;
            }
        }

        if (wait > TimeSpan.Zero)
        {
            var seconds = (long)Math.Ceiling(wait.TotalSeconds);
            throw new ApiException(
                [ErrorCatalog.CheckoutLocked.At(null, new Dictionary<string, object?> { ["wait"] = seconds })], TimeSpan.FromSeconds(seconds));
        }
    }

    private static IEnumerable<string> Subjects(Guid userId, string? deviceIdHash)
    {
        yield return $"user:{userId:N}";
        if (!string.IsNullOrEmpty(deviceIdHash))
        {
            yield return $"device:{deviceIdHash}";
        }
    }

    private static async ValueTask<ThrottleWindow> GuardAsync(Func<ValueTask<ThrottleWindow>> operation)
    {
        try
        {
            return await operation();
        }
        catch (ThrottleStoreUnavailableException)
        {
            throw new ApiException([ErrorCatalog.ServiceUnavailable.At(null)], Throttler.UnavailableRetryAfter);
        }
    }
}
