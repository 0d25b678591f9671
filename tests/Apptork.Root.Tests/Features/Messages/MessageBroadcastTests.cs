using System.Diagnostics;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Messages;

/// <summary>A message written on one process is served by every other one at once, not when their boards expire.</summary>
public sealed class MessageBroadcastTests(PostgresServer postgres, RedisServer redis)
{
    /// <summary>The bound another process must meet when the processes share Redis; the board's own expiry is 5 s.</summary>
    private static readonly TimeSpan AcrossProcesses = TimeSpan.FromSeconds(1);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Another_process_serves_a_new_message_within_a_second()
    {
        var shared = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"test-{Guid.NewGuid():N}:",
            // Asked every 20 ms below: more than the anonymous rate allows.
            ["Throttling:Rates:anon:anonymous"] = "100000/minute",
        };
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, shared);
        var connectionString = first.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, shared);
        var onFirst = new MessagesClient(first);
        var onSecond = new MessagesClient(second);
        var staff = await onFirst.StaffAsync();
        // The second process has loaded its board, with no message, before the message is written.
        (await onSecond.TitlesAsync()).ShouldBeEmpty();

        await onFirst.CreateAsync(staff.AccessToken, []);
        var clock = Stopwatch.StartNew();
        while ((await onSecond.TitlesAsync()).Count == 0)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "the second process never served the message");
            await Task.Delay(20, Cancel);
        }

        clock.Elapsed.ShouldBeLessThan(AcrossProcesses);
    }
}
