namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// An app's version as <c>X-App-Version</c> sends it, ordered as semantic versions (<c>1.10.0</c> &gt; <c>1.9.9</c>):
/// <c>MAJOR[.MINOR[.PATCH]]</c>, a pre-release or build suffix ignored. Written here because FeatureManagement
/// compares no versions and .NET's <see cref="Version"/> refuses the suffixes apps send.
/// </summary>
public readonly record struct AppVersion(int Major, int Minor, int Patch) : IComparable<AppVersion>
{
    public const int MaxLength = 32;

    /// <summary>Null for a missing or malformed version: the caller's version is then unknown.</summary>
    public static AppVersion? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength)
        {
            return null;
        }

        var core = text.Trim().TrimStart('v', 'V').Split('-', '+')[0];
        var parts = core.Split('.');
        if (parts.Length > 3)
        {
            return null;
        }

        var numbers = new int[3];
        for (var index = 0; index < parts.Length; index++)
        {
            if (parts[index].Length is 0 or > 9 || !parts[index].All(char.IsAsciiDigit))
            {
                return null;
            }

            numbers[index] = int.Parse(parts[index], System.Globalization.CultureInfo.InvariantCulture);
        }

        return new AppVersion(numbers[0], numbers[1], numbers[2]);
    }

    public int CompareTo(AppVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Patch.CompareTo(other.Patch);

    public static bool operator <(AppVersion left, AppVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(AppVersion left, AppVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(AppVersion left, AppVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(AppVersion left, AppVersion right) => left.CompareTo(right) >= 0;
}
