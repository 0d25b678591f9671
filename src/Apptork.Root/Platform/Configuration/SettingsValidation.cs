using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Configuration;

public static class SettingsValidation
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="section"/>, validates its data annotations (and those
    /// of its nested sections) when the process starts, and words each failure with the setting's environment-variable
    /// name (<c>Http__MaxRequestBodyBytes</c>), which is what the operator has to change. A value of the wrong type
    /// (<c>Email__Smtp__Port=abc</c>) is reported the same way instead of as the binder's exception.
    /// </summary>
    public static OptionsBuilder<TOptions> AddSettings<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new AnnotatedSettingsValidator<TOptions>(section));
        return services.AddOptions<TOptions>()
            .Configure<IConfiguration>((options, configuration) => Bind(configuration.GetSection(section), options))
            .ValidateOnStart();
    }

    /// <summary><c>Email:Smtp:Port</c> → <c>Email__Smtp__Port</c>, as it is set in the environment.</summary>
    public static string ToEnvironmentName(string configurationPath) => configurationPath.Replace(":", "__", StringComparison.Ordinal);

    private static void Bind<TOptions>(IConfigurationSection section, TOptions options)
        where TOptions : class
    {
        var unconvertible = Unconvertible(section, typeof(TOptions)).ToList();
        if (unconvertible.Count > 0)
        {
            throw new OptionsValidationException(section.Path, typeof(TOptions), unconvertible);
        }

        section.Bind(options);
    }

    /// <summary>
    /// Every value the binder could not convert, found before binding with the converters the binder itself uses
    /// (<see cref="TypeDescriptor.GetConverter(Type)"/>): the binder stops at the first such value with an exception
    /// that carries the setting only in its message text, and a refusal must name every bad setting.
    /// </summary>
    private static IEnumerable<string> Unconvertible(IConfigurationSection section, Type settingsType)
    {
        foreach (var child in section.GetChildren())
        {
            var property = settingsType.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            var type = property is null ? null : Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type is null)
            {
                continue;
            }

            if (IsOwnSettingsClass(type))
            {
                foreach (var failure in Unconvertible(child, type))
                {
                    yield return failure;
                }
            }
            else if (!string.IsNullOrEmpty(child.Value) && type != typeof(string) && !Converts(type, child.Value))
            {
                yield return $"{ToEnvironmentName(child.Path)} is '{child.Value}', which is not {ExpectedValue(type)}.";
            }
        }
    }

    private static bool Converts(Type type, string value)
    {
        var converter = TypeDescriptor.GetConverter(type);
        if (!converter.CanConvertFrom(typeof(string)))
        {
            return true;
        }

        try
        {
            converter.ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string ExpectedValue(Type type) => type switch
    {
        { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(type))}",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ => $"a valid {type.Name}",
    };

    /// <summary>A nested settings class is a nested section (<c>Email__Smtp__Port</c>); framework types are values here.</summary>
    private static bool IsOwnSettingsClass(Type type) => type.IsClass && type.Assembly == typeof(SettingsValidation).Assembly;

    /// <summary>
    /// DataAnnotations' <see cref="Validator"/> over the settings and their nested sections. Not the options validation
    /// source generator (<c>[OptionsValidator]</c>): it names a failed member by its class path
    /// (<c>EmailOptions.Smtp.Port</c>) and ignores display names, so its messages could name the setting the way the
    /// operator sets it (<c>Email__Smtp__Port</c>) only by rewriting their text.
    /// </summary>
    private sealed class AnnotatedSettingsValidator<TOptions>(string section) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var failures = new List<string>();
            Collect(options, ToEnvironmentName(section), failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static void Collect(object settings, string prefix, List<string> failures)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true);
            failures.AddRange(results.Select(result =>
                $"{string.Join(", ", result.MemberNames.Select(member => $"{prefix}__{member}"))}: {result.ErrorMessage}"));

            // A nested settings class is a nested section (Email__Smtp__Port); Validator itself does not descend into it.
            // Only our own classes: framework types are values here, and some refer to themselves (CultureInfo.Parent).
            foreach (var property in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (IsOwnSettingsClass(property.PropertyType) && property.GetIndexParameters().Length == 0 && property.GetValue(settings) is { } nested)
                {
                    Collect(nested, $"{prefix}__{property.Name}", failures);
                }
            }
        }
    }
}
