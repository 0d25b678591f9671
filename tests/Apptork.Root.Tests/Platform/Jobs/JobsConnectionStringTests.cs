using Apptork.Root.Platform.Jobs;
using Apptork.Root.Tests.Infrastructure.Categories;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Jobs;

/// <summary>The job storage's own pool: the application's connection string with the pool's name, size and prepared statements.</summary>
public sealed class JobsConnectionStringTests
{
    [Fact, Fast]
    public void The_job_pool_prepares_its_statements_and_is_sized_for_the_workers()
    {
        var jobs = new NpgsqlConnectionStringBuilder(JobsSetup.JobsConnectionString(Settings("Host=db;Database=app;Maximum Pool Size=20", "worker")));

        jobs.MaxAutoPrepare.ShouldBe(JobsOptions.PreparedStatementsPerConnection);
        jobs.ApplicationName.ShouldBe(JobsSetup.JobsApplicationName);
        jobs.MaxPoolSize.ShouldBe(new JobsOptions().WorkerCount + JobsOptions.StorageConnectionsBesideWorkers);
        jobs.Host.ShouldBe("db");
    }

    [Theory, Fast]
    [InlineData("Host=db;Database=app;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Database=app;maxautoprepare=5", 5)]
    public void A_connection_string_that_sets_prepared_statements_keeps_its_value(string application, int kept)
    {
        var jobs = new NpgsqlConnectionStringBuilder(JobsSetup.JobsConnectionString(Settings(application, "api")));

        jobs.MaxAutoPrepare.ShouldBe(kept);
        jobs.MaxPoolSize.ShouldBe(JobsOptions.StorageConnectionsBesideWorkers);
    }

    private static IConfiguration Settings(string connectionString, string role) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString, ["Role"] = role, ["Database:Provider"] = "Postgres" })
        .Build();
}
