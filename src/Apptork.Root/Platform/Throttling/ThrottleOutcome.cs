using Apptork.Root.Platform.Errors;

namespace Apptork.Root.Platform.Throttling;

public enum ThrottleVerdict
{
    /// <summary>Counted within the limit.</summary>
    Allowed,

    /// <summary>Over the limit: 429 <c>throttled</c>.</summary>
    Refused,

    /// <summary>The store is unreachable and the scope fails closed: 503 <c>service_unavailable</c>.</summary>
    Unavailable,

    /// <summary>The store is unreachable and the scope fails open: let through, uncounted.</summary>
    NotEnforced,
}

/// <summary>What one scope said about one request, and what the <c>RateLimit</c> headers tell the client about it.</summary>
public sealed record ThrottleOutcome(string Scope, Rate Rate, ThrottleVerdict Verdict, long Remaining, TimeSpan ResetAfter)
{
    public bool Refuses => Verdict is ThrottleVerdict.Refused or ThrottleVerdict.Unavailable;

    /// <summary>Whether the client is told where it stands (not when the store could not say).</summary>
    public bool IsCounted => Verdict is ThrottleVerdict.Allowed or ThrottleVerdict.Refused;

    /// <summary>Whole seconds until the window resets, as <c>Retry-After</c>, the <c>RateLimit</c> header and the detail say it.</summary>
    public long ResetSeconds => Math.Max(1, (long)Math.Ceiling(ResetAfter.TotalSeconds));

    public ApiException ToException() => Verdict switch
    {
        ThrottleVerdict.Refused => new ApiException(
            [ErrorCatalog.Throttled.At(null, new Dictionary<string, object?> { ["wait"] = ResetSeconds })], TimeSpan.FromSeconds(ResetSeconds)),
        ThrottleVerdict.Unavailable => new ApiException([ErrorCatalog.ServiceUnavailable.At(null)], ResetAfter),
        _ => throw new InvalidOperationException($"A {Verdict} outcome refuses nothing."),
    };
}
