using Apptork.Root.Features.Auth;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Apptork.Root.Tests.Platform.Throttling;

/// <summary>The two shapes as throttling sees them: embedded counts in-process, production in Redis.</summary>
public enum ThrottleShape
{
    Embedded,
    Production,
}

/// <summary>
/// Settings and test-only endpoints for throttling tests: the scopes no product endpoint uses yet (<c>ai_generation</c>,
/// <c>checkout</c> and its lock) and an exemption inside a throttled group, run inside the product's whole pipeline.
/// </summary>
public static class ThrottleProbe
{
    public const string Generations = "/__throttle/generations";
    public const string CheckoutSessions = "/__throttle/checkout/sessions";
    public const string FailedPayments = "/__throttle/checkout/failed-payments";
    public const string CountedInGroup = "/__throttle/group/counted";
    public const string ExemptInGroup = "/__throttle/group/exempt";

    public static TheoryData<ThrottleShape> Shapes => new(ThrottleShape.Embedded, ThrottleShape.Production);

    public static DatabaseShape Database(ThrottleShape shape) => shape == ThrottleShape.Production ? DatabaseShape.Postgres : DatabaseShape.Sqlite;

    /// <summary>
    /// The shape's store (Redis under a key prefix of this test's own, so tests sharing the server never share a count)
    /// and these settings, e.g. <c>("Throttling:Rates:anon:anonymous", "3/minute")</c>.
    /// </summary>
    public static Dictionary<string, string?> Settings(ThrottleShape shape, RedisServer redis, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>();
        if (shape == ThrottleShape.Production)
        {
            all["ConnectionStrings:Redis"] = redis.ConnectionString;
            all["Redis:KeyPrefix"] = $"test-{Guid.NewGuid():N}:";
        }

        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }

    public static RootApp.TestExtensions Extensions(FakeTimeProvider? clock = null) => new(
        endpoints =>
        {
            var probe = endpoints.MapGroup("/__throttle");
            probe.MapGet("/address", (HttpContext context) => context.Connection.RemoteIpAddress?.ToString());
            probe.MapPost("/generations", () => TypedResults.Accepted((string?)null))
                .RequireAuthorization().Throttle(ThrottleScopes.AiGeneration);
            probe.MapPost("/checkout/sessions", async (HttpContext context, CheckoutLock checkoutLock, CancellationToken cancellationToken) =>
                {
                    await checkoutLock.EnsureCheckoutAllowedAsync(context.User.UserId(), ClientInfo.From(context).DeviceIdHash, cancellationToken);
                    return TypedResults.Created();
                })
                .RequireAuthorization().Throttle(ThrottleScopes.Checkout);
            probe.MapPost("/checkout/failed-payments", async (HttpContext context, CheckoutLock checkoutLock, CancellationToken cancellationToken) =>
                {
                    await checkoutLock.RecordFailedPaymentAsync(context.User.UserId(), ClientInfo.From(context).DeviceIdHash, cancellationToken);
                    return TypedResults.NoContent();
                })
                .RequireAuthorization();
            var group = probe.MapGroup("/group").Throttle(ThrottleScopes.Anon, ThrottleScopes.User);
            group.MapGet("/counted", () => TypedResults.NoContent());
            group.MapGet("/exempt", () => TypedResults.NoContent()).ExemptFromThrottling("A test of the exemption.");
        },
        clock is null ? null : services => services.AddSingleton<TimeProvider>(clock));
}
