using System.Security.Cryptography;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Auth.Social;

/// <summary>A provider set up halfway would only fail at some user's sign-in; the binary refuses to start instead, naming the setting.</summary>
public sealed class SocialSettingsTests
{
    private const int ConfigurationExitCode = 78;

    [Theory]
    [InlineData("Auth__GitHub__ClientId=Iv1.abc", "Auth__GitHub__ClientSecret is required with Auth__GitHub__ClientId")]
    [InlineData("Auth__Apple__ClientIds__0=com.apptork.app;Auth__Apple__TeamId=TEAM4APPLE", "Auth__Apple__KeyId is required with Auth__Apple__TeamId")]
    [InlineData("Auth__Apple__TeamId=T;Auth__Apple__KeyId=K;Auth__Apple__PrivateKey=AuthKey_K.p8", "Auth__Apple__PrivateKey is neither a PEM private key nor the path of an existing file")]
    [InlineData("Auth__Google__JwksUrl=keys.example.com", "Auth__Google__JwksUrl is 'keys.example.com', not an absolute http(s) URL")]
    public async Task A_half_configured_provider_stops_the_process_naming_the_setting(string settings, string expected)
    {
        var environment = settings.Split(';').Select(setting => setting.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        var result = await RootProcess.RunAsync([], environment, TimeSpan.FromSeconds(60), Directory.CreateTempSubdirectory("apptork-start-").FullName);
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain($"Refusing to start: {expected}");
    }

    [Fact]
    public async Task The_production_shape_takes_provider_keys_only_over_https()
    {
        var environment = new Dictionary<string, string>(TestSecrets.Environment)
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port=1;Database=apptork;Username=apptork;Password={Convert.ToHexString(RandomNumberGenerator.GetBytes(12))}",
            ["Auth__Apple__JwksUrl"] = "http://appleid.apple.com/auth/keys",
        };
        var result = await RootProcess.RunAsync([], environment, TimeSpan.FromSeconds(60), Directory.CreateTempSubdirectory("apptork-start-").FullName);
        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.ShouldContain("Auth__Apple__JwksUrl must use https in the production shape");
    }
}
