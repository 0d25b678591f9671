using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Auth.Social;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Persistence;
using FluentValidation;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Apptork.Root.Features.Auth;

public static class AuthModule
{
    public static WebApplicationBuilder AddAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<AuthOptions>(AuthOptions.Section);
        var options = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var keys = AuthKeys.Load(options, RuntimeShape.From(builder.Configuration), builder.Environment.ContentRootPath);
        services.AddSingleton(keys);

        services.AddSingleton<ILookupNormalizer, AccountLookupNormalizer>();
        services.AddIdentityCore<User>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.User.AllowedUserNameCharacters = "0123456789abcdef";
            })
            .AddEntityFrameworkStores<RootDbContext>();
        services.Replace(ServiceDescriptor.Scoped<IUserValidator<User>, AccountUserValidator>());

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = AccessTokens.ValidationParameters(keys, options.Jwt);
            });

        services.AddSingleton<AccessTokens>();
        services.AddSingleton<AccountEmails>();
        services.AddSingleton<SignInCodeMailer>();
        services.AddScoped<Sessions>();
        services.AddScoped<OtpService>();
        services.AddSingleton<IValidator<OtpRequestBody>, OtpRequestBodyValidator>();
        services.AddSingleton<IValidator<OtpVerifyBody>, OtpVerifyBodyValidator>();
        services.AddSingleton<IValidator<RefreshTokenBody>, RefreshTokenBodyValidator>();
        services.AddSingleton<IValidator<UpdateMeBody>, UpdateMeBodyValidator>();
        builder.AddSocialSignIn();
        return builder;
    }
}
