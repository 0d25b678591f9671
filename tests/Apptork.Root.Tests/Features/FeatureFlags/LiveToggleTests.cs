using System.Diagnostics;
using System.Net;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.FeatureFlags;

/// <summary>A flag switched on one process takes effect on the others: within a second through Redis, within the time to live without.</summary>
public sealed class LiveToggleTests(PostgresServer postgres, RedisServer redis)
{
    private static readonly TimeSpan AcrossProcesses = TimeSpan.FromSeconds(1);

    private const string Probe = "/__flags/probe";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>An endpoint gated by one line of metadata, as any product endpoint would be.</summary>
    private static RootApp.TestExtensions Gated() => new(endpoints => endpoints.MapGet(Probe, () => TypedResults.NoContent()).RequireFeature("live_probe"));

    [Fact]
    public async Task Another_process_s_gate_closes_within_a_second_of_the_change()
    {
        var shared = RedisSettings();
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, shared, Gated());
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, ConnectionString(first), shared, Gated());
        var took = await ToggleAndMeasureAsync(first, second, TimeSpan.FromSeconds(10));
        took.ShouldBeLessThan(AcrossProcesses);
    }

    [Fact]
    public async Task A_process_that_hears_no_announcement_converges_within_the_time_to_live()
    {
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, RedisSettings(), Gated());
        // No Redis at all: nothing tells this process, as when Redis is down; only the definitions' time to live.
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, ConnectionString(first), extensions: Gated());
        var took = await ToggleAndMeasureAsync(first, second, TimeSpan.FromSeconds(30));
        took.ShouldBeLessThan(FeatureFlagDefinitions.TimeToLive + TimeSpan.FromSeconds(1));
    }

    /// <summary>Opens the probe's gate, sees it open on <paramref name="second"/> (so its definitions are cached), closes it on <paramref name="first"/>.</summary>
    private static async Task<TimeSpan> ToggleAndMeasureAsync(RootApp first, RootApp second, TimeSpan patience)
    {
        var admin = new FlagsClient(first);
        var (staff, _) = await admin.StaffAsync("live.operator@example.com");
        await admin.CreateOkAsync(staff, new { key = "live_probe", enabled = true, description = new { en = "Probe" } });
        var onSecond = second.Client();
        var open = Stopwatch.StartNew();
        while (await StatusAsync(onSecond) != HttpStatusCode.NoContent)
        {
            open.Elapsed.ShouldBeLessThan(patience, "The probe never opened on the second process.");
            await Task.Delay(20, Cancel);
        }

        await admin.UpdateOkAsync(staff, "live_probe", new { enabled = false });
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < patience)
        {
            if (await StatusAsync(onSecond) == HttpStatusCode.Forbidden)
            {
                return clock.Elapsed;
            }

            await Task.Delay(20, Cancel);
        }

        throw new ShouldAssertException($"The gate was still open after {patience}.");
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Probe, Cancel);
        return response.StatusCode;
    }

    private Dictionary<string, string?> RedisSettings() => new()
    {
        ["ConnectionStrings:Redis"] = redis.ConnectionString,
        ["Redis:KeyPrefix"] = $"test-{Guid.NewGuid():N}:",
    };

    private static string ConnectionString(RootApp app) => app.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
}
