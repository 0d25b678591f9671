using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Email;

/// <summary>
/// Refuses, when the process starts, email settings that cannot work. Checked at start rather than while composing
/// the application, so that <c>migrate</c>, which composes it too, runs with the database settings alone.
/// </summary>
public sealed class EmailSettingsValidator(RuntimeShape shape) : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Provider))
        {
            failures.Add($"Email__Provider is '{options.Provider}'; use Log (embedded shape only) or Smtp.");
        }
        else if (options.Provider == EmailProvider.Log && shape.IsProduction)
        {
            // The log provider prints sign-in codes: on a shared production log that hands accounts to whoever reads it.
            failures.Add("Email__Provider is Log (the default), which works only in the embedded shape; set Email__Provider=Smtp and Email__Smtp__Host.");
        }

        if (options.Provider == EmailProvider.Smtp && string.IsNullOrWhiteSpace(options.Smtp.Host))
        {
            failures.Add("Email__Smtp__Host is required when Email__Provider=Smtp (e.g. smtp.example.com).");
        }

        if (!MailboxAddresses.TryParseMailbox(options.From, out _))
        {
            failures.Add($"Email__From is '{options.From}', which is not one email address; use e.g. \"My App <no-reply@example.com>\".");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
