namespace Apptork.Root.Platform.Configuration;

public static class SettingNames
{
    /// <summary>An enum setting by its name only: <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/> would also take "1".</summary>
    public static bool TryParse<TEnum>(string raw, out TEnum value)
        where TEnum : struct, Enum
    {
        var name = Enum.GetNames<TEnum>().FirstOrDefault(candidate => string.Equals(candidate, raw.Trim(), StringComparison.OrdinalIgnoreCase));
        value = name is null ? default : Enum.Parse<TEnum>(name);
        return name is not null;
    }
}
