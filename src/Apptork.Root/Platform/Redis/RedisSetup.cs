using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Configuration;
using StackExchange.Redis;

namespace Apptork.Root.Platform.Redis;

public static class RedisSetup
{
    // Short, so that a Redis outage costs a request a moment rather than the caller's whole patience;
    // a connection string that names its own values keeps them.
    private const int ConnectTimeoutMilliseconds = 2000;
    private const int CommandTimeoutMilliseconds = 1000;

    /// <summary>
    /// One shared <see cref="IConnectionMultiplexer"/> when <c>ConnectionStrings__Redis</c> is set, nothing otherwise
    /// (the embedded shape keeps everything in-process).
    /// </summary>
    public static IServiceCollection AddRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<RedisOptions>(RedisOptions.Section);
        services.AddSingleton<RedisKeys>();
        services.AddSingleton<ChangeBroadcast>();
        var connectionString = configuration.GetConnectionString(RedisOptions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return services;
        }

        var options = ConnectionOptions(connectionString);
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        return services;
    }

    internal static ConfigurationOptions ConnectionOptions(string connectionString)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException)
        {
            throw new StartupConfigurationException(RedisOptions.ConnectionStringSetting, "is not a valid Redis connection string (e.g. redis:6379,password=...).");
        }

        if (options.EndPoints.Count == 0)
        {
            throw new StartupConfigurationException(RedisOptions.ConnectionStringSetting, "names no server (e.g. redis:6379,password=...).");
        }

        var named = connectionString.Split(',')
            .Select(part => part.Split('=', 2)[0].Trim())
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!named.Contains("connectTimeout"))
        {
            options.ConnectTimeout = ConnectTimeoutMilliseconds;
        }

        if (!named.Contains("syncTimeout"))
        {
            options.SyncTimeout = CommandTimeoutMilliseconds;
        }

        if (!named.Contains("asyncTimeout"))
        {
            options.AsyncTimeout = CommandTimeoutMilliseconds;
        }

        // The process starts and serves while Redis is down, and reconnects by itself when it is back.
        options.AbortOnConnectFail = false;
        // While disconnected a command fails at once instead of queueing: callers decide (fail open or closed) without waiting.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        options.ClientName ??= "apptork-root";
        return options;
    }
}
