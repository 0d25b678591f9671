using System.Diagnostics;
using Apptork.Root.Features.Messages;
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
        var shared = Settings(withRedis: true);
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, shared);
        var connectionString = first.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, shared);
        var onFirst = new MessagesClient(first);
        var onSecond = new MessagesClient(second);
        var staff = await onFirst.StaffAsync();
        // The second process has loaded its board, with no message, before the message is written.
        (await onSecond.TitlesAsync()).ShouldBeEmpty();

        await onFirst.CreateAsync(staff.AccessToken, []);
        (await TimeUntilServedAsync(onSecond, TimeSpan.FromSeconds(10))).ShouldBeLessThan(AcrossProcesses);
    }

    [Fact]
    public async Task A_process_that_hears_no_announcement_serves_the_message_once_its_board_expires()
    {
        await using var first = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres, Settings(withRedis: true));
        var connectionString = first.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")!;
        // No Redis at all: nothing tells this process, as when Redis is down; only its board's age.
        await using var second = await RootApp.StartOnAsync(DatabaseShape.Postgres, connectionString, Settings(withRedis: false));
        var onFirst = new MessagesClient(first);
        var onSecond = new MessagesClient(second);
        var staff = await onFirst.StaffAsync();
        (await onSecond.TitlesAsync()).ShouldBeEmpty();

        await onFirst.CreateAsync(staff.AccessToken, []);
        var took = await TimeUntilServedAsync(onSecond, TimeSpan.FromSeconds(30));
        took.ShouldBeLessThan(MessageBoard.MaxAge + TimeSpan.FromSeconds(1));
    }

    private Dictionary<string, string?> Settings(bool withRedis)
    {
        // Asked every 20 ms below: more than the anonymous rate allows.
        var settings = new Dictionary<string, string?> { ["Throttling:Rates:anon:anonymous"] = "100000/minute" };
        if (withRedis)
        {
            settings["ConnectionStrings:Redis"] = redis.ConnectionString;
            settings["Redis:KeyPrefix"] = $"test-{Guid.NewGuid():N}:";
        }

        return settings;
    }

    /// <summary>How long until the process serves a message, asking every 20 ms; fails past <paramref name="patience"/>.</summary>
    private static async Task<TimeSpan> TimeUntilServedAsync(MessagesClient client, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while ((await client.TitlesAsync()).Count == 0)
        {
            clock.Elapsed.ShouldBeLessThan(patience, "the process never served the message");
            await Task.Delay(20, Cancel);
        }

        return clock.Elapsed;
    }
}
