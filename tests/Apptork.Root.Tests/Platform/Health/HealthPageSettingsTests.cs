using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Health;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Categories;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Health;

/// <summary>The health page's path is its only protection: a guessable one, or one among the API's routes, is refused by name.</summary>
[Fast]
public sealed class HealthPageSettingsTests
{
    private static readonly RuntimeShape Production = new(DatabaseProvider.Postgres, ProcessRole.Api);
    private static readonly RuntimeShape Embedded = new(DatabaseProvider.Sqlite, ProcessRole.All);

    [Theory]
    [InlineData("/health")]
    [InlineData("/health-12345678")]
    [InlineData("health-0123456789abcdef0123456789abcdef")]
    [InlineData("/health 0123456789abcdef0123456789abcdef")]
    [InlineData("/health-0123456789abcdef?x=0123456789abcdef")]
    [InlineData("/api/health-0123456789abcdef0123456789abcdef")]
    [InlineData("/healthz/0123456789abcdef0123456789abcdef")]
    [InlineData("/docs/0123456789abcdef0123456789abcdef")]
    public void A_guessable_or_clashing_path_is_refused_naming_the_setting_without_repeating_it(string path)
    {
        var result = new HealthPageSettingsValidator(Production).Validate(null, new HealthPageOptions { Path = path });

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldStartWith("Health__Path must");
        result.FailureMessage.ShouldNotContain("0123456789abcdef");
    }

    [Fact]
    public void A_long_random_path_is_accepted_in_either_shape()
    {
        var options = new HealthPageOptions { Path = "/health-0123456789abcdef0123456789abcdef" };
        new HealthPageSettingsValidator(Production).Validate(null, options).Succeeded.ShouldBeTrue();
        new HealthPageSettingsValidator(Embedded).Validate(null, options).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public void Unset_the_path_is_required_in_production_and_generated_in_the_embedded_shape()
    {
        new HealthPageSettingsValidator(Production).Validate(null, new HealthPageOptions()).FailureMessage
            .ShouldStartWith("Health__Path is not set, and the production shape needs it");
        new HealthPageSettingsValidator(Embedded).Validate(null, new HealthPageOptions()).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public void Levels_in_the_wrong_order_and_a_worker_deadline_past_the_timeout_are_refused()
    {
        var options = new HealthPageOptions
        {
            TimeoutSeconds = 3, WorkerDeadlineSeconds = 3, MemoryWarningMegabytes = 10, MemoryFailureMegabytes = 5, DiskWarningFreeMegabytes = 5, DiskFailureFreeMegabytes = 10,
        };

        var failures = new HealthPageSettingsValidator(Embedded).Validate(null, options).Failures.ShouldNotBeNull();

        failures.ShouldContain(failure => failure.StartsWith("Health__WorkerDeadlineSeconds", StringComparison.Ordinal));
        failures.ShouldContain(failure => failure.StartsWith("Health__MemoryWarningMegabytes", StringComparison.Ordinal));
        failures.ShouldContain(failure => failure.StartsWith("Health__DiskWarningFreeMegabytes", StringComparison.Ordinal));
    }
}
