using Apptork.Root.Platform.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Apptork.Root.Platform.Throttling;

public static class ThrottlingSetup
{
    /// <summary>The scopes, their rates, and their store: Redis when configured, this process otherwise.</summary>
    public static IServiceCollection AddThrottling(this IServiceCollection services)
    {
        services.AddSettings<ThrottlingOptions>(ThrottlingOptions.Section);
        services.AddSingleton<IValidateOptions<ThrottlingOptions>, ThrottleRates.Validator>();
        services.AddSingleton(provider => ThrottleRates.From(provider.GetRequiredService<IOptions<ThrottlingOptions>>()));
        services.AddSingleton<IThrottleStore>(provider => provider.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisThrottleStore(redis, provider.GetRequiredService<TimeProvider>())
            : new InProcessThrottleStore(provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ThrottleKeys>();
        services.AddSingleton<Throttler>();
        return services;
    }

    /// <summary>After authentication (the caller's user and role pick the partition and rate), before authorization.</summary>
    public static IApplicationBuilder UseThrottling(this IApplicationBuilder app) => app.UseMiddleware<ThrottleMiddleware>();
}
