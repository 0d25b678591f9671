using Apptork.Root.Platform.Redis;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using StackExchange.Redis;
using Xunit;

namespace Apptork.Root.Tests.Platform.Throttling;

/// <summary>The two stores, side by side under the same assertions: they must count alike.</summary>
public sealed class ThrottleStoreTests(RedisServer redis) : IAsyncDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private readonly string prefix = $"store-test-{Guid.NewGuid():N}:";
    private ConnectionMultiplexer? connection;

    public static TheoryData<ThrottleShape> Shapes => ThrottleProbe.Shapes;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Racing_hits_count_exactly_up_to_the_limit(ThrottleShape shape)
    {
        var store = await StoreAsync(shape);
        var rate = new Rate(25, TimeSpan.FromMinutes(1));

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(async () => await store.HitAsync(Key("race"), rate, Cancel))));

        results.Count(result => result.Counted).ShouldBe(25);
        results.Where(result => result.Counted).Select(result => result.Count).Order().ShouldBe(Enumerable.Range(1, 25).Select(count => (long)count));
        results.Where(result => !result.Counted).ShouldAllBe(result => result.Count == 25);
    }

    [Fact]
    public async Task A_hot_partition_takes_hits_from_redis_in_batches_and_two_processes_never_exceed_the_limit()
    {
        var first = (RedisThrottleStore)await StoreAsync(ThrottleShape.Production);
        using var second = new RedisThrottleStore(connection!, clock);
        var rate = new Rate(1000, TimeSpan.FromMinutes(1));

        (await first.HitAsync(Key("hot"), rate, Cancel)).ShouldBe(new ThrottleWindow(true, 1, TimeSpan.FromMinutes(1)));
        ((long)await connection!.GetDatabase().HashGetAsync(Key("hot"), "count")).ShouldBe(62, "a sixteenth of the 999 left, taken in one call");

        var racing = await Task.WhenAll(Enumerable.Range(0, 1400).Select(index => Task.Run(async () =>
            await (index % 2 == 0 ? first : second).HitAsync(Key("hot"), rate, Cancel))));
        var allowed = racing.Count(result => result.Counted) + 1;
        allowed.ShouldBeLessThanOrEqualTo(1000);
        allowed.ShouldBeGreaterThanOrEqualTo(1000 - 64, "at most the other process's unspent batch is forfeited");
        ((long)await connection.GetDatabase().HashGetAsync(Key("hot"), "count")).ShouldBe(1000);
    }

    [Fact]
    public async Task A_hot_partition_fetches_its_next_batch_once_half_of_one_is_spent()
    {
        var store = (RedisThrottleStore)await StoreAsync(ThrottleShape.Production);
        var rate = new Rate(1000, TimeSpan.FromMinutes(1));
        async Task<long> CountedInRedis() => (long)await connection!.GetDatabase().HashGetAsync(Key("ahead"), "count");

        for (var hit = 1; hit <= 31; hit++)
        {
            (await store.HitAsync(Key("ahead"), rate, Cancel)).Count.ShouldBe(hit);
        }

        (await CountedInRedis()).ShouldBe(62, "half of the first batch's 61 spare hits are left: nothing fetched yet");
        await store.HitAsync(Key("ahead"), rate, Cancel);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await CountedInRedis() == 62 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, Cancel);
        }

        (await CountedInRedis()).ShouldBe(62 + 58, "the next batch (a sixteenth of the 938 left) was fetched while 29 hits remained");
        for (var hit = 33; hit <= 120; hit++)
        {
            (await store.HitAsync(Key("ahead"), rate, Cancel)).Count.ShouldBe(hit);
        }
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_window_opens_at_the_first_hit_and_resets_when_it_ends(ThrottleShape shape)
    {
        var store = await StoreAsync(shape);
        var rate = new Rate(2, TimeSpan.FromSeconds(60));

        (await store.HitAsync(Key("window"), rate, Cancel)).ShouldBe(new ThrottleWindow(true, 1, TimeSpan.FromSeconds(60)));
        clock.Advance(TimeSpan.FromSeconds(20));
        (await store.HitAsync(Key("window"), rate, Cancel)).ShouldBe(new ThrottleWindow(true, 2, TimeSpan.FromSeconds(40)));
        clock.Advance(TimeSpan.FromSeconds(30));
        (await store.HitAsync(Key("window"), rate, Cancel)).ShouldBe(new ThrottleWindow(false, 2, TimeSpan.FromSeconds(10)));
        (await store.HitAsync(Key("another"), rate, Cancel)).Counted.ShouldBeTrue("every key has its own window");

        clock.Advance(TimeSpan.FromSeconds(10));
        (await store.HitAsync(Key("window"), rate, Cancel)).ShouldBe(new ThrottleWindow(true, 1, TimeSpan.FromSeconds(60)));
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task A_peek_reads_the_window_without_counting(ThrottleShape shape)
    {
        var store = await StoreAsync(shape);
        var rate = new Rate(1, TimeSpan.FromMinutes(5));
        (await store.PeekAsync(Key("lock"), Cancel)).ShouldBe(new ThrottleWindow(false, 0, TimeSpan.Zero));

        await store.HitAsync(Key("lock"), rate, Cancel);
        clock.Advance(TimeSpan.FromMinutes(1));
        (await store.PeekAsync(Key("lock"), Cancel)).ShouldBe(new ThrottleWindow(false, 1, TimeSpan.FromMinutes(4)));
        (await store.PeekAsync(Key("lock"), Cancel)).Count.ShouldBe(1);

        clock.Advance(TimeSpan.FromMinutes(4));
        (await store.PeekAsync(Key("lock"), Cancel)).ShouldBe(new ThrottleWindow(false, 0, TimeSpan.Zero));
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
    }

    private string Key(string name) => $"{prefix}{name}";

    private async Task<IThrottleStore> StoreAsync(ThrottleShape shape)
    {
        if (shape == ThrottleShape.Embedded)
        {
            return new InProcessThrottleStore(clock);
        }

        connection = await ConnectionMultiplexer.ConnectAsync(RedisSetup.ConnectionOptions(redis.ConnectionString));
        return new RedisThrottleStore(connection, clock);
    }
}
