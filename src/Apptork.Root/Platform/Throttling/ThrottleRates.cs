using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Throttling;

/// <summary>
/// The rate of each scope for each role: <see cref="Defaults"/>, overridden by <c>Throttling__Rates__&lt;scope&gt;__&lt;role&gt;</c>.
/// A scope limits only the roles it has a rate for; a signed-in role it names no rate for gets its <c>free</c> rate, so a
/// role added later is never unlimited by omission.
/// </summary>
public sealed class ThrottleRates
{
    /// <summary>The shipped rates; the README's table is this one.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Defaults { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            // Strict, but one IP can be a whole office or a mobile carrier's NAT.
            [ThrottleScopes.Anon] = new Dictionary<string, string> { [ThrottleRoles.Anonymous] = "60/minute" },
            [ThrottleScopes.User] = new Dictionary<string, string>
            {
                [ThrottleRoles.Free] = "120/minute", ["premium"] = "300/minute", ["staff"] = "1200/minute",
            },
            // A sign-in is one request and one verify: 20 per hour per IP is ten sign-ins. Per address, each client (IP,
            // and device when sent) has its own budgets, so a stranger spends only theirs, never the owner's: five codes an
            // hour, 20 verifies an hour, ten wrong codes a day. All clients together may ask for 20 codes an hour for one
            // address, which bounds mail bombing; wrong codes have their address-wide ceiling in Auth__Otp.
            [ThrottleScopes.Otp] = new Dictionary<string, string>
            {
                [ThrottleRoles.Anonymous] = "20/hour", [ThrottleRoles.Free] = "20/hour",
                [ThrottleRoles.Email] = "20/hour", [ThrottleRoles.EmailClient] = "5/hour", [ThrottleRoles.EmailVerify] = "20/hour",
                [ThrottleRoles.FailedCodes] = "10/day",
            },
            [ThrottleScopes.AiGeneration] = new Dictionary<string, string>
            {
                [ThrottleRoles.Anonymous] = "2/minute", [ThrottleRoles.Free] = "10/minute", ["premium"] = "30/minute", ["staff"] = "120/minute",
            },
            [ThrottleScopes.Checkout] = new Dictionary<string, string>
            {
                [ThrottleRoles.Anonymous] = "5/hour", [ThrottleRoles.Free] = "10/hour", ["premium"] = "20/hour", ["staff"] = "100/hour",
            },
        };

    private readonly Dictionary<string, Dictionary<string, Rate>> rates;

    private ThrottleRates(Dictionary<string, Dictionary<string, Rate>> rates) => this.rates = rates;

    public static ThrottleRates From(IOptions<ThrottlingOptions> options)
    {
        var (rates, problems) = Build(options.Value);
        return problems.Count == 0
            ? new ThrottleRates(rates)
            : throw new OptionsValidationException(Options.DefaultName, typeof(ThrottlingOptions), problems);
    }

    /// <summary>The rate that limits <paramref name="role"/> in <paramref name="scope"/>; null when the scope does not limit it.</summary>
    public Rate? For(string scope, string role)
    {
        if (!rates.TryGetValue(scope, out var byRole))
        {
            throw new ArgumentException($"'{scope}' is not a throttling scope.", nameof(scope));
        }

        if (byRole.TryGetValue(role, out var rate))
        {
            return rate;
        }

        return role != ThrottleRoles.Anonymous && byRole.TryGetValue(ThrottleRoles.Free, out var fallback) ? fallback : null;
    }

    internal static (Dictionary<string, Dictionary<string, Rate>> Rates, List<string> Problems) Build(ThrottlingOptions options)
    {
        var problems = new List<string>();
        var rates = Defaults.ToDictionary(
            scope => scope.Key,
            scope => scope.Value.ToDictionary(role => role.Key, role => Rate.Parse(role.Value), StringComparer.OrdinalIgnoreCase),
            StringComparer.OrdinalIgnoreCase);
        foreach (var (scope, byRole) in options.Rates)
        {
            if (!rates.TryGetValue(scope, out var target))
            {
                problems.Add($"{ThrottlingOptions.Section}__Rates__{scope} names no scope; the scopes are {string.Join(", ", ThrottleScopes.All)}.");
                continue;
            }

            foreach (var (role, text) in byRole)
            {
                if (Rate.TryParse(text, out var rate))
                {
                    target[role.ToLowerInvariant()] = rate;
                }
                else
                {
                    problems.Add($"{ThrottlingOptions.Section}__Rates__{scope}__{role} is '{text}', not a rate; write it like 10/minute, 100/10m, 5/2s or {Rate.UnlimitedText}.");
                }
            }
        }

        return (rates, problems);
    }

    /// <summary>Refuses to start, naming the setting, when a rate is mistyped.</summary>
    internal sealed class Validator : IValidateOptions<ThrottlingOptions>
    {
        public ValidateOptionsResult Validate(string? name, ThrottlingOptions options)
        {
            var (_, problems) = Build(options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
