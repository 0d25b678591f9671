using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Configuration;

public static partial class SettingsValidation
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
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException exception) when (ConversionFailure().Match(exception.Message) is { Success: true } failure)
        {
            var path = failure.Groups["path"].Value;
            var expected = ExpectedValue(typeof(TOptions), path[(section.Path.Length + 1)..].Split(':'));
            throw new OptionsValidationException(section.Path, typeof(TOptions),
                [$"{ToEnvironmentName(path)} is '{failure.Groups["value"].Value}', which is not {expected}."]);
        }
    }

    private static string ExpectedValue(Type options, IEnumerable<string> propertyPath)
    {
        Type? type = options;
        foreach (var name in propertyPath)
        {
            type = type?.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType;
        }

        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ => $"a valid {type?.Name ?? "value"}",
        };
    }

    // The binder's wording (Microsoft.Extensions.Configuration.Binder); any other failure keeps its own exception.
    [GeneratedRegex("^Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']+)' to type '[^']+'\\.$", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();

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
                if (property.PropertyType.IsClass && property.PropertyType.Assembly == typeof(SettingsValidation).Assembly
                    && property.GetIndexParameters().Length == 0 && property.GetValue(settings) is { } nested)
                {
                    Collect(nested, $"{prefix}__{property.Name}", failures);
                }
            }
        }
    }
}
