using System.Collections.Concurrent;
using Apptork.Root.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Apptork.Root.Platform.Broadcasts;

/// <summary>
/// Tells every process of the deployment that something changed (a session ended, a flag flipped), so each can update
/// what it keeps in memory at once. Through Redis pub/sub when Redis is configured, within this process otherwise; the
/// publishing process always hears its own message directly, even while Redis is down.
/// <para>
/// Delivery is at most once and may repeat: handlers must be idempotent, and a process that missed a message (Redis
/// down, the process restarting) must converge by reading the source of truth again on a short period.
/// </para>
/// </summary>
public sealed partial class ChangeBroadcast(IServiceProvider services, IOptions<RedisOptions> redisOptions, TimeProvider time, ILogger<ChangeBroadcast> logger)
{
    private readonly ConcurrentDictionary<string, Action<string>[]> handlers = new();
    private readonly IConnectionMultiplexer? redis = services.GetService<IConnectionMultiplexer>();
    private readonly OutageWarningGate outageWarnings = new(time);

    private static readonly TimeSpan SubscribeRetryInterval = TimeSpan.FromSeconds(2);

    /// <summary>Calls <paramref name="handler"/> with each message of <paramref name="topic"/>, from any process.</summary>
    public void Subscribe(string topic, Action<string> handler)
    {
        var isFirst = false;
        handlers.AddOrUpdate(topic, _ => { isFirst = true; return [handler]; }, (_, existing) => [.. existing, handler]);
        if (isFirst && redis is not null)
        {
            SubscribeToRedis(topic, redis);
        }
    }

    public async Task PublishAsync(string topic, string message)
    {
        Deliver(topic, message);
        if (redis is null)
        {
            return;
        }

        try
        {
            await redis.GetSubscriber().PublishAsync(Channel(topic), message);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            if (outageWarnings.TryWarn(out var missed))
            {
                LogPublishFailed(logger, exception, topic, missed);
            }
        }
    }

    /// <summary>
    /// Subscribes now, or, while Redis cannot be reached, as soon as it can: the client restores subscriptions it holds
    /// after a reconnection, but not one that never got through, so a failed one is tried again every few seconds.
    /// Asynchronously: a synchronous subscribe blocks a thread-pool thread until Redis answers, and at a busy start, with
    /// the pool's few threads so blocked, the answer is never read and the subscribe times out.
    /// </summary>
    private void SubscribeToRedis(string topic, IConnectionMultiplexer connection)
    {
        async Task SubscribeAsync()
        {
            var warned = false;
            while (true)
            {
                try
                {
                    await connection.GetSubscriber().SubscribeAsync(Channel(topic), (_, value) => Deliver(topic, value.ToString()));
                    return;
                }
                catch (Exception exception) when (exception is RedisException or TimeoutException)
                {
                    if (!warned)
                    {
                        warned = true;
                        LogSubscribeDeferred(logger, exception, topic);
                    }

                    await Task.Delay(SubscribeRetryInterval, time);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        }

        _ = SubscribeAsync();
    }

    private void Deliver(string topic, string message)
    {
        foreach (var handler in handlers.GetValueOrDefault(topic, []))
        {
            handler(message);
        }
    }

    private RedisChannel Channel(string topic) => RedisChannel.Literal($"{redisOptions.Value.KeyPrefix}changes:{topic}");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable: change broadcasts of {Topic} reach the other processes only through their periodic refresh ({Missed} messages since the last warning)")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string topic, long missed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable: listening for changes of {Topic} starts when it is back; until then this process refreshes periodically")]
    private static partial void LogSubscribeDeferred(ILogger logger, Exception exception, string topic);
}
