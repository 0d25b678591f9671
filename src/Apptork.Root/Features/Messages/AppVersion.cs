using System.Globalization;

namespace Apptork.Root.Features.Messages;

/// <summary>
/// An app version in semantic-version order: <c>1.10.0</c> &gt; <c>1.9.9</c>. <c>MAJOR[.MINOR[.PATCH]]</c>, missing parts
/// are 0; a <c>+build</c> suffix is ignored and a <c>-pre.release</c> one sorts before its release (ordinally among
/// themselves). Anything else does not parse: the caller's version is then unknown, and matches no version range.
/// </summary>
public readonly record struct AppVersion(int Major, int Minor, int Patch, string? PreRelease) : IComparable<AppVersion>
{
    public static AppVersion? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > Message.MaxVersionLength)
        {
            return null;
        }

        var core = text.Trim();
        var plus = core.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            core = core[..plus];
        }

        string? preRelease = null;
        var dash = core.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            preRelease = core[(dash + 1)..];
            core = core[..dash];
            if (preRelease.Length == 0)
            {
                return null;
            }
        }

        var parts = core.Split('.');
        if (parts.Length is < 1 or > 3)
        {
            return null;
        }

        var numbers = new int[3];
        for (var index = 0; index < parts.Length; index++)
        {
            if (parts[index].Length is 0 or > 9 || !int.TryParse(parts[index], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[index]))
            {
                return null;
            }
        }

        return new AppVersion(numbers[0], numbers[1], numbers[2], preRelease);
    }

    public int CompareTo(AppVersion other)
    {
        var byNumbers = (Major, Minor, Patch).CompareTo((other.Major, other.Minor, other.Patch));
        if (byNumbers != 0)
        {
            return byNumbers;
        }

        return (PreRelease, other.PreRelease) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            var (mine, theirs) => string.CompareOrdinal(mine, theirs),
        };
    }

    public static bool operator <(AppVersion left, AppVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(AppVersion left, AppVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(AppVersion left, AppVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(AppVersion left, AppVersion right) => left.CompareTo(right) >= 0;
}
