using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Social;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Platform.Persistence;
using FluentValidation;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Auth;

public static class AuthModule
{
    public static WebApplicationBuilder AddAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Loaded when first needed and checked when the process starts serving, so `migrate` needs only database settings.
        var contentRoot = builder.Environment.ContentRootPath;
        // Bound here rather than through IOptions<AuthOptions>, whose validation below needs these very keys.
        services.AddSingleton(provider => AuthKeys.Load(
            provider.GetRequiredService<IConfiguration>().GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions(),
            provider.GetRequiredService<RuntimeShape>(),
            contentRoot));
        services.AddSettings<AuthOptions>(AuthOptions.Section).Validate<AuthKeys>((_, keys) => keys.SigningKeys.Count > 0);

        services.AddSingleton<ILookupNormalizer, AccountLookupNormalizer>();
        services.AddIdentityCore<User>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.User.AllowedUserNameCharacters = "0123456789abcdef";
            })
            .AddEntityFrameworkStores<RootDbContext>();
        services.Replace(ServiceDescriptor.Scoped<IUserValidator<User>, AccountUserValidator>());

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddStaffPolicy();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<AuthKeys, IOptions<AuthOptions>, ValidatedTokenCache, RevokedSessions>((jwt, keys, options, validatedTokens, revokedSessions) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenHandlers.Clear();
                jwt.TokenHandlers.Add(validatedTokens);
                jwt.TokenValidationParameters = AccessTokens.ValidationParameters(keys, options.Value.Jwt);
                jwt.Events = new JwtBearerEvents { OnTokenValidated = context => AccessTokens.RefuseUnusableAsync(context, revokedSessions) };
            });

        services.AddSingleton<AccessTokens>();
        services.AddSingleton<ValidatedTokenCache>();
        services.AddSingleton<RevokedSessions>();
        services.AddHostedService(provider => provider.GetRequiredService<RevokedSessions>());
        services.AddSingleton<AccountEmails>();
        services.AddSingleton<SignInCodeMailer>();
        services.AddScoped<Sessions>();
        services.AddScoped<AccountControls>();
        services.AddSingleton<IFeatureCommand, BanCommand>();
        services.AddSingleton<IFeatureCommand, UnbanCommand>();
        services.AddSingleton<IFeatureCommand, SetRoleCommand>();
        services.AddScoped<AccountRegistration>();
        services.AddScoped<OtpService>();
        services.AddSingleton<IValidator<OtpRequestBody>, OtpRequestBodyValidator>();
        services.AddSingleton<IValidator<OtpVerifyBody>, OtpVerifyBodyValidator>();
        services.AddSingleton<IValidator<RefreshTokenBody>, RefreshTokenBodyValidator>();
        services.AddSingleton<IValidator<UpdateMeBody>, UpdateMeBodyValidator>();
        builder.AddSocialSignIn();
        return builder;
    }
}
