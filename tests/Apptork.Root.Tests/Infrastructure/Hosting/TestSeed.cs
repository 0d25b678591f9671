using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>
/// The seed of a test's random choices, written to the test's output so that a failure can be run again with the same
/// choices: set <see cref="Variable"/> to it. (Concurrent tests repeat their choices, not their threads' interleaving.)
/// </summary>
public static class TestSeed
{
    public const string Variable = "APPTORK_TEST_SEED";

    public static int Next()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(Variable), out var chosen) ? chosen : Random.Shared.Next();
        var message = $"Random seed {seed}: set {Variable}={seed} to make the same choices again.";
        TestContext.Current.TestOutputHelper?.WriteLine(message);
        TestContext.Current.SendDiagnosticMessage(message);
        return seed;
    }
}
