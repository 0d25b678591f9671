namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// Counts hits in fixed windows that start at a key's first hit. Counting is atomic: of any number of racing hits, exactly
/// as many as the limit leaves are counted. Redis when <c>ConnectionStrings__Redis</c> is set (shared by every process),
/// in-process otherwise; both behave the same, tested by the same assertions.
/// </summary>
/// <remarks>
/// A fixed window is what the <c>RateLimit</c> header describes (a quota, a window, when it resets), costs one round trip
/// and one small hash per key, and makes Retry-After exact. Its known cost: a client can spend one quota at the end of a
/// window and the next at the start of the following one.
/// </remarks>
public interface IThrottleStore
{
    /// <summary>Counts one hit on <paramref name="key"/> unless its current window already holds <see cref="Rate.Limit"/>.</summary>
    /// <exception cref="ThrottleStoreUnavailableException">The shared store cannot be reached.</exception>
    ValueTask<ThrottleWindow> HitAsync(string key, Rate rate, CancellationToken cancellationToken);

    /// <summary>The current window of <paramref name="key"/> without counting; zero hits when it has none.</summary>
    /// <exception cref="ThrottleStoreUnavailableException">The shared store cannot be reached.</exception>
    ValueTask<ThrottleWindow> PeekAsync(string key, CancellationToken cancellationToken);
}

/// <param name="Counted">Whether this hit was counted, i.e. allowed.</param>
/// <param name="Count">Hits counted in the window, this one included.</param>
/// <param name="ResetAfter">Time until the window ends and the count starts again from zero.</param>
public readonly record struct ThrottleWindow(bool Counted, long Count, TimeSpan ResetAfter);

/// <summary>The shared store did not answer; the caller fails open or closed (<see cref="ThrottleScopes.FailsClosed"/>).</summary>
public sealed class ThrottleStoreUnavailableException(Exception innerException)
    : Exception("The throttling store is unreachable.", innerException);
