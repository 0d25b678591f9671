using System.Globalization;

namespace Apptork.Root.Admin.Exports;

/// <summary>
/// A search's date range in UTC days, both ends included, as the forms' date fields send them (<c>yyyy-MM-dd</c>):
/// <see cref="From"/> is the first instant of the first day, <see cref="Before"/> the first instant after the last.
/// </summary>
public sealed record UtcDateRange(DateTimeOffset? From, DateTimeOffset? Before)
{
    /// <summary>The range; the text keys of the fields that are wrong (each naming its field) are added to <paramref name="errors"/>.</summary>
    public static UtcDateRange Parse(string? from, string? to, ICollection<string> errors)
    {
        var first = ParseDay(from, "ErrorFromDateInvalid", errors);
        var last = ParseDay(to, "ErrorToDateInvalid", errors);
        if (first is not null && last is not null && last < first)
        {
            errors.Add("ErrorDateRangeReversed");
        }

        // 9999-12-31 has no next day, and bounds nothing.
        return new UtcDateRange(StartOf(first), last is { } day && day < DateOnly.MaxValue ? StartOf(day.AddDays(1)) : null);
    }

    private static DateTimeOffset? StartOf(DateOnly? day) => day is { } value ? new DateTimeOffset(value.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    private static DateOnly? ParseDay(string? text, string error, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }

        errors.Add(error);
        return null;
    }
}
