using Xunit;
using Xunit.v3;

namespace Apptork.Root.Tests.Infrastructure.Categories;

/// <summary>
/// The "Category" trait: <c>./test.sh --fast</c> runs only <see cref="Fast"/> tests, with no server started; <see cref="LongRunning"/>
/// tests are the ones that run for tens of seconds or more. Unmarked tests run in the whole suite only.
/// </summary>
public static class Category
{
    public const string Trait = "Category";
    public const string Fast = "Fast";
    public const string LongRunning = "Long";

    /// <summary>Set by <c>./test.sh --fast</c>: the assembly's servers are not started, and reaching for one fails.</summary>
    public const string NoServersVariable = "APPTORK_TESTS_NO_SERVERS";

    public static bool ServersDisabled => Environment.GetEnvironmentVariable(NoServersVariable) == "1";

    /// <summary>
    /// Whether the running test (or the test class whose fixture is being built) is marked <see cref="Fast"/>; false
    /// outside any test, e.g. while the assembly's fixtures start.
    /// </summary>
    public static bool CurrentIsFast()
    {
        var context = TestContext.Current;
        return IsFast(context.Test?.Traits) || IsFast(context.TestCase?.Traits) || IsFast(context.TestClass?.Traits);
    }

    /// <summary>Fails a test marked <see cref="Fast"/> that reaches for <paramref name="what"/>, which it promised not to need.</summary>
    public static void RefuseInFastTest(string what)
    {
        if (CurrentIsFast())
        {
            throw new InvalidOperationException(
                $"{CurrentName()} is marked [Fast] but needs {what}: fast tests start no server, no child process and no application host. Remove the mark, or the need.");
        }
    }

    /// <summary>The display name of the running test, or of its class, for messages.</summary>
    public static string CurrentName() =>
        TestContext.Current.Test?.TestDisplayName ?? TestContext.Current.TestClass?.TestClassName ?? "(no test)";

    private static bool IsFast(IReadOnlyDictionary<string, IReadOnlyCollection<string>>? traits) =>
        traits is not null && traits.TryGetValue(Trait, out var values) && values.Contains(Fast);
}

/// <summary>
/// Marks a test or test class that needs no server, no child process and no application host (each takes seconds to
/// start): it runs in <c>./test.sh --fast</c>. Reaching for a server fixture, nginx, Node, the product binary or
/// <see cref="Hosting.RootApp"/> from such a test fails it, in every run, so the mark cannot go stale.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class FastAttribute : Attribute, ITraitAttribute
{
    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() => [new(Category.Trait, Category.Fast)];
}

/// <summary>Marks a test that runs for tens of seconds or more; give it a deadline (<c>[Fact(Timeout = ...)]</c>) too.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class LongAttribute : Attribute, ITraitAttribute
{
    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() => [new(Category.Trait, Category.LongRunning)];
}
