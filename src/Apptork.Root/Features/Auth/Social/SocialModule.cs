using System.Net.Http.Headers;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Configuration;
using FluentValidation;

namespace Apptork.Root.Features.Auth.Social;

public static class SocialModule
{
    /// <summary>Sign-in with Google, Apple and GitHub, and linked identities. Settings are checked here, at start.</summary>
    public static WebApplicationBuilder AddSocialSignIn(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var shape = RuntimeShape.From(builder.Configuration);
        var apple = SocialSignInSettings.LoadApple(builder.Configuration, shape);
        var appleKey = SocialSignInSettings.LoadAppleKey(apple, builder.Environment.ContentRootPath);
        services.AddSingleton(SocialSignInSettings.LoadGoogle(builder.Configuration, shape));
        services.AddSingleton(apple);
        services.AddSingleton(SocialSignInSettings.LoadGitHub(builder.Configuration, shape));
        services.AddSingleton(provider => new AppleClientSecrets(appleKey, apple, provider.GetRequiredService<TimeProvider>()));

        services.AddHttpClient(ProviderHttp.ClientName, client =>
        {
            client.Timeout = ProviderHttp.Timeout;
            // GitHub's API refuses requests without a User-Agent.
            client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Apptork-Root", "1.0"));
        });
        services.AddSingleton<GoogleSignIn>();
        services.AddSingleton<AppleSignIn>();
        services.AddSingleton<GitHubSignIn>();
        services.AddScoped<AppleTokens>();
        services.AddScoped<IAccountDeletionHook>(provider => provider.GetRequiredService<AppleTokens>());
        services.AddScoped<SocialAccounts>();
        services.AddScoped<LinkedIdentities>();
        services.AddSingleton<IValidator<GoogleSignInBody>, GoogleSignInBodyValidator>();
        services.AddSingleton<IValidator<AppleSignInBody>, AppleSignInBodyValidator>();
        services.AddSingleton<IValidator<GitHubSignInBody>, GitHubSignInBodyValidator>();
        return builder;
    }
}
