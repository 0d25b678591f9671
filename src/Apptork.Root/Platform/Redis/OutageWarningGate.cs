namespace Apptork.Root.Platform.Redis;

/// <summary>
/// Paces the warnings of an outage that every request runs into: one per <see cref="Interval"/>, telling how many
/// events it stands for, instead of one per request.
/// </summary>
public sealed class OutageWarningGate(TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private long lastWarning = long.MinValue;
    private long eventsSinceWarning;

    /// <summary>Counts one event; true when a warning is due, with the events since the last one.</summary>
    public bool TryWarn(out long events)
    {
        events = Interlocked.Increment(ref eventsSinceWarning);
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref lastWarning);
        if ((last != long.MinValue && time.GetElapsedTime(last, now) < Interval)
            || Interlocked.CompareExchange(ref lastWarning, now, last) != last)
        {
            return false;
        }

        Interlocked.Add(ref eventsSinceWarning, -events);
        return true;
    }
}
