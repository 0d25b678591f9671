using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Configuration;

public static class SettingsValidation
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="section"/>, validates its data annotations when the
    /// process starts, and words each failure with the setting's environment-variable name
    /// (<c>Http__MaxRequestBodyBytes</c>), which is what the operator has to change.
    /// </summary>
    public static OptionsBuilder<TOptions> AddSettings<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new AnnotatedSettingsValidator<TOptions>(section));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    private sealed class AnnotatedSettingsValidator<TOptions>(string section) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            {
                return ValidateOptionsResult.Success;
            }

            return ValidateOptionsResult.Fail(results.Select(result =>
                $"{string.Join(", ", result.MemberNames.Select(member => $"{section}__{member}"))}: {result.ErrorMessage}"));
        }
    }
}
