using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Throttling;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Checkout;

/// <summary>
/// <c>Throttling__CheckoutLock__*</c>: how many failed payments lock checkout, and for how long. Named under
/// <c>Throttling</c> because operators set it beside the rates; every value is checked when the process starts.
/// </summary>
public sealed class CheckoutLockOptions
{
    public const string Section = "Throttling:CheckoutLock";

    /// <summary><c>5/hour</c>: this many failed payments of one user, or from one device, within the window lock checkout.</summary>
    public string Failures { get; set; } = "5/hour";

    /// <summary><c>24h</c>: how long the lock lasts. Long, because repeated failures are what card testing looks like.</summary>
    public string Duration { get; set; } = "24h";

    /// <summary>Refuses to start, naming the setting, when either value does not parse.</summary>
    internal sealed class Validator : IValidateOptions<CheckoutLockOptions>
    {
        public ValidateOptionsResult Validate(string? name, CheckoutLockOptions options)
        {
            var setting = SettingsValidation.ToEnvironmentName(Section);
            var problems = new List<string>();
            if (!Rate.TryParse(options.Failures, out var failures) || failures.IsUnlimited)
            {
                problems.Add($"{setting}__Failures is '{options.Failures}', not a rate; write it like 5/hour.");
            }

            if (!Rate.TryParseDuration(options.Duration, out _))
            {
                problems.Add($"{setting}__Duration is '{options.Duration}', not a duration; write it like 24h, 30m or 1d.");
            }

            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
