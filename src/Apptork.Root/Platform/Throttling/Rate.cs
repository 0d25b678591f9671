using System.Globalization;
using System.Text.RegularExpressions;

namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// At most <see cref="Limit"/> hits per <see cref="Window"/>, written in settings as <c>10/minute</c>, <c>100/10m</c>,
/// <c>5/2s</c> or <c>1000/day</c>; <c>unlimited</c> switches a limit off.
/// </summary>
public readonly partial record struct Rate(int Limit, TimeSpan Window)
{
    public const string UnlimitedText = "unlimited";

    private static readonly TimeSpan LongestWindow = TimeSpan.FromDays(31);

    public static Rate Unlimited { get; } = new(int.MaxValue, TimeSpan.Zero);

    public bool IsUnlimited => this == Unlimited;

    /// <summary>Reads a rate that is known to be valid: a shipped default, or a setting the options validator accepted.</summary>
    public static Rate Parse(string text) =>
        TryParse(text, out var rate) ? rate : throw new FormatException($"'{text}' is not a rate.");

    public static TimeSpan ParseDuration(string text) =>
        TryParseDuration(text, out var duration) ? duration : throw new FormatException($"'{text}' is not a duration.");

    public static bool TryParse(string? text, out Rate rate)
    {
        rate = default;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Equals(UnlimitedText, StringComparison.OrdinalIgnoreCase))
        {
            rate = Unlimited;
            return true;
        }

        var match = RateText().Match(trimmed);
        if (!match.Success
            || !int.TryParse(match.Groups["limit"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            || limit < 1
            || !TryParseDuration(match.Groups["window"].Value, out var window))
        {
            return false;
        }

        rate = new Rate(limit, window);
        return true;
    }

    /// <summary><c>minute</c>, <c>10m</c>, <c>2s</c>, <c>24h</c>, <c>1d</c>: from one second to 31 days.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        var match = DurationText().Match(text?.Trim() ?? string.Empty);
        if (!match.Success)
        {
            return false;
        }

        var count = 1;
        if (match.Groups["count"].Success
            && !int.TryParse(match.Groups["count"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out count))
        {
            return false;
        }

        var unit = match.Groups["unit"].Value.ToLowerInvariant()[0] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            _ => TimeSpan.FromDays(1),
        };
        if (count < 1 || count > LongestWindow / unit)
        {
            return false;
        }

        duration = unit * count;
        return true;
    }

    public override string ToString() =>
        IsUnlimited ? UnlimitedText : string.Create(CultureInfo.InvariantCulture, $"{Limit}/{(long)Window.TotalSeconds}s");

    [GeneratedRegex(@"^(?<limit>[0-9]{1,9})\s*/\s*(?<window>.+)$")]
    private static partial Regex RateText();

    [GeneratedRegex("^(?<count>[0-9]{1,6})?\\s*(?<unit>s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)$", RegexOptions.IgnoreCase)]
    private static partial Regex DurationText();
}
