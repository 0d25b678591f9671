using System.Net;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.Redis;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Tests.Infrastructure.Categories;
using Microsoft.Extensions.Options;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Throttling;

[Fast]
public sealed class RateTests
{
    [Theory]
    [InlineData("10/minute", 10, 60)]
    [InlineData("10/min", 10, 60)]
    [InlineData("100/10m", 100, 600)]
    [InlineData("3/2s", 3, 2)]
    [InlineData("5/hour", 5, 3600)]
    [InlineData("5 / 2 hours", 5, 7200)]
    [InlineData("1000/day", 1000, 86400)]
    [InlineData("7/1D", 7, 86400)]
    [InlineData("1/second", 1, 1)]
    public void Rates_read_as_operators_write_them(string text, int limit, int windowSeconds)
    {
        Rate.TryParse(text, out var rate).ShouldBeTrue(text);
        rate.ShouldBe(new Rate(limit, TimeSpan.FromSeconds(windowSeconds)));
        rate.IsUnlimited.ShouldBeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("0/minute")]
    [InlineData("-1/minute")]
    [InlineData("10/fortnight")]
    [InlineData("10/0s")]
    [InlineData("10/32d")]
    [InlineData("ten/minute")]
    [InlineData("10/minute/hour")]
    public void Anything_else_is_not_a_rate(string text) => Rate.TryParse(text, out _).ShouldBeFalse(text);

    [Fact]
    public void Unlimited_switches_a_limit_off() => (Rate.TryParse("Unlimited", out var rate) && rate.IsUnlimited).ShouldBeTrue();

    [Fact]
    public void Defaults_limit_each_scope_for_its_callers_and_settings_override_them()
    {
        var options = new ThrottlingOptions();
        options.Rates["otp"] = new() { ["Email"] = "2/hour" };
        options.Rates["user"] = new() { ["staff"] = "unlimited", ["enterprise"] = "500/minute" };
        var rates = ThrottleRates.From(Options.Create(options));

        rates.For(ThrottleScopes.Anon, ThrottleRoles.Anonymous).ShouldBe(new Rate(60, TimeSpan.FromMinutes(1)));
        rates.For(ThrottleScopes.Anon, "premium").ShouldBeNull("signed-in callers are counted in the user scope");
        rates.For(ThrottleScopes.User, ThrottleRoles.Anonymous).ShouldBeNull("anonymous callers are counted in the anon scope");
        rates.For(ThrottleScopes.User, "premium").ShouldBe(new Rate(300, TimeSpan.FromMinutes(1)));
        rates.For(ThrottleScopes.User, "enterprise").ShouldBe(new Rate(500, TimeSpan.FromMinutes(1)));
        rates.For(ThrottleScopes.User, "staff")!.Value.IsUnlimited.ShouldBeTrue();
        rates.For(ThrottleScopes.User, "a-role-added-later").ShouldBe(rates.For(ThrottleScopes.User, ThrottleRoles.Free), "an unknown role gets the free rate, never none");
        rates.For(ThrottleScopes.Otp, ThrottleRoles.Email).ShouldBe(new Rate(2, TimeSpan.FromHours(1)));
        rates.For(ThrottleScopes.Otp, ThrottleRoles.Anonymous).ShouldBe(new Rate(20, TimeSpan.FromHours(1)));
        rates.For(ThrottleScopes.AiGeneration, "premium")!.Value.Limit.ShouldBeGreaterThan(rates.For(ThrottleScopes.AiGeneration, ThrottleRoles.Free)!.Value.Limit);
        Should.Throw<ArgumentException>(() => rates.For("downloads", ThrottleRoles.Anonymous));
    }

    [Fact]
    public void A_mistyped_setting_is_refused_by_its_name()
    {
        var options = new ThrottlingOptions();
        options.Rates["otp"] = new() { ["email"] = "5 per hour" };
        options.Rates["otps"] = new() { ["anonymous"] = "5/hour" };
        var checkoutLock = new CheckoutLockOptions { Failures = "many", Duration = "forever" };

        var refusal = Should.Throw<OptionsValidationException>(() => ThrottleRates.From(Options.Create(options)));
        var lockRefusal = new CheckoutLockOptions.Validator().Validate(Options.DefaultName, checkoutLock);
        refusal.Failures.Concat(lockRefusal.Failures ?? []).ShouldBe([
            "Throttling__Rates__otp__email is '5 per hour', not a rate; write it like 10/minute, 100/10m, 5/2s or unlimited.",
            "Throttling__Rates__otps names no scope; the scopes are anon, otp, user, ai_generation, checkout.",
            "Throttling__CheckoutLock__Failures is 'many', not a rate; write it like 5/hour.",
            "Throttling__CheckoutLock__Duration is 'forever', not a duration; write it like 24h, 30m or 1d.",
        ], ignoreOrder: true);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void An_ipv6_client_is_limited_as_its_whole_64_network(string address, string partition) =>
        ClientAddress.PartitionOf(IPAddress.Parse(address)).ShouldBe(partition);

    [Fact]
    public void A_partition_keeps_its_key_after_the_memo_of_keys_fills_and_is_emptied()
    {
        var redisKeys = new RedisKeys(Options.Create(new RedisOptions { KeyPrefix = "memo:" }));
        var keys = new ThrottleKeys(redisKeys);
        var first = keys.For(ThrottleScopes.Anon, ThrottleRoles.Anonymous, "ip:203.0.113.7");

        var others = Enumerable.Range(0, ThrottleKeys.Remembered + 1)
            .Select(index => keys.For(ThrottleScopes.Anon, ThrottleRoles.Anonymous, $"ip:10.0.{index / 256}.{index % 256}")).ToList();

        first.ShouldBe(redisKeys.Named("throttle:anon:anonymous", "ip:203.0.113.7"));
        keys.For(ThrottleScopes.Anon, ThrottleRoles.Anonymous, "ip:203.0.113.7").ShouldBe(first);
        keys.For(ThrottleScopes.User, ThrottleRoles.Anonymous, "ip:203.0.113.7").ShouldNotBe(first, "each scope counts apart");
        others.Distinct().Count().ShouldBe(others.Count);
        others.ShouldNotContain(first);
    }
}
