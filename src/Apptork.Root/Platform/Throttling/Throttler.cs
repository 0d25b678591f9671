using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.Redis;

namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// Counts a hit of one partition (an IP, a user, an email address) in one scope under its role's rate. The endpoint
/// middleware calls it for <c>.Throttle(...)</c>; services call <see cref="HitAsync"/> for partitions only they know
/// (the OTP service, per email address).
/// </summary>
public sealed partial class Throttler(IThrottleStore store, ThrottleRates rates, ThrottleKeys keys, TimeProvider time, ILogger<Throttler> logger)
{
    /// <summary>Retry-After of a 503 while the store is unreachable: reconnection is retried within seconds.</summary>
    public static readonly TimeSpan UnavailableRetryAfter = TimeSpan.FromSeconds(5);

    private readonly OutageWarningGate outageWarnings = new(time);

    /// <summary>Counts the hit and throws the 429 (or the fail-closed 503) when the partition is over its limit.</summary>
    /// <returns>The outcome; null when the scope does not limit <paramref name="role"/>.</returns>
    public async ValueTask<ThrottleOutcome?> HitAsync(string scope, string role, string partitionKey, CancellationToken cancellationToken)
    {
        var outcome = await TryHitAsync(scope, role, partitionKey, cancellationToken);
        if (outcome is { Refuses: true })
        {
            RootMetrics.RequestThrottled(scope);
            throw outcome.ToException();
        }

        return outcome;
    }

    /// <summary>Counts the hit and says whether it is allowed, without throwing.</summary>
    /// <returns>The outcome; null when the scope does not limit <paramref name="role"/>.</returns>
    public async ValueTask<ThrottleOutcome?> TryHitAsync(string scope, string role, string partitionKey, CancellationToken cancellationToken)
    {
        if (rates.For(scope, role) is not { IsUnlimited: false } rate)
        {
            return null;
        }

        try
        {
            var window = await store.HitAsync(keys.For(scope, role, partitionKey), rate, cancellationToken);
            return new ThrottleOutcome(
                scope, rate, window.Counted ? ThrottleVerdict.Allowed : ThrottleVerdict.Refused, Math.Max(0, rate.Limit - window.Count), window.ResetAfter);
        }
        catch (ThrottleStoreUnavailableException exception)
        {
            WarnOfOutage(exception);
            return ThrottleScopes.FailsClosed(scope)
                ? new ThrottleOutcome(scope, rate, ThrottleVerdict.Unavailable, 0, UnavailableRetryAfter)
                : new ThrottleOutcome(scope, rate, ThrottleVerdict.NotEnforced, rate.Limit, TimeSpan.Zero);
        }
    }

    /// <summary>
    /// Where the partition stands, without counting a hit: refused once its window holds the limit. For budgets that count
    /// only some requests (wrong codes), checked before the request is let at what they guard.
    /// </summary>
    /// <returns>The outcome; null when the scope does not limit <paramref name="role"/>.</returns>
    public async ValueTask<ThrottleOutcome?> PeekAsync(string scope, string role, string partitionKey, CancellationToken cancellationToken)
    {
        if (rates.For(scope, role) is not { IsUnlimited: false } rate)
        {
            return null;
        }

        try
        {
            var window = await store.PeekAsync(keys.For(scope, role, partitionKey), cancellationToken);
            return new ThrottleOutcome(
                scope, rate, window.Count >= rate.Limit ? ThrottleVerdict.Refused : ThrottleVerdict.Allowed, Math.Max(0, rate.Limit - window.Count),
                window.ResetAfter);
        }
        catch (ThrottleStoreUnavailableException exception)
        {
            WarnOfOutage(exception);
            return ThrottleScopes.FailsClosed(scope)
                ? new ThrottleOutcome(scope, rate, ThrottleVerdict.Unavailable, 0, UnavailableRetryAfter)
                : new ThrottleOutcome(scope, rate, ThrottleVerdict.NotEnforced, rate.Limit, TimeSpan.Zero);
        }
    }

    private void WarnOfOutage(ThrottleStoreUnavailableException exception)
    {
        if (outageWarnings.TryWarn(out var affected))
        {
            LogOutage(logger, exception.InnerException ?? exception, affected, string.Join(", ", ThrottleScopes.All.Where(ThrottleScopes.FailsClosed)));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message =
        "Throttling store unreachable: {Affected} check(s) since the last warning. Scopes {ClosedScopes} answer 503 (fail closed); the others are not enforced (fail open) until it is back.")]
    private static partial void LogOutage(ILogger logger, Exception exception, long affected, string closedScopes);
}
