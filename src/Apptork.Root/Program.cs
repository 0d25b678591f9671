using Apptork.Root.Admin;
using Apptork.Root.Features.Auth;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Purchases;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Features.Files;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Messages;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Platform.Throttling;

var (command, commandArguments, hostArgs) = RootCommand.Parse(args);
return await RootCommand.RefuseOnBadSettingsAsync(async () =>
{
    // Before any host is built: a container's health probe runs it every few seconds.
    if (command == HealthCheckCommand.Name)
    {
        return await HealthCheckCommand.RunAsync(hostArgs);
    }

    var builder = WebApplication.CreateBuilder(hostArgs);
    builder.AddPlatform();
    builder.AddFraud();
    builder.AddAuth();
    builder.AddWallet();
    builder.AddCheckout();
    builder.AddPurchases();
    builder.AddFiles();
    builder.AddGeneration();
    builder.AddFeatureFlags();
    builder.AddMessages();
    builder.AddAdmin();

    // Disposed on every path, so the console logger's queue is written out before a short command (migrate, an unknown verb) exits.
    await using var app = builder.Build();
    app.UsePlatform();
    app.MapPlatformEndpoints();
    if (app.ServesApi())
    {
        var api = app.MapGroup("/api/v1").Throttle(ThrottleScopes.Anon, ThrottleScopes.User);
        api.MapGroup("/auth").MapAuthEndpoints();
        api.MapGroup("/wallet").MapWalletEndpoints();
        api.MapGroup("/checkout").MapCheckoutEndpoints();
        api.MapGroup("/purchases").MapPurchaseEndpoints();
        api.MapGroup("/files").MapFileEndpoints();
        api.MapGroup("/generations").MapGenerationEndpoints();
        api.MapGroup("/feature-flags").MapFeatureFlagEndpoints();
        api.MapGroup("/messages").MapMessageEndpoints();
        var admin = api.MapGroup("/admin").RequireStaff();
        admin.MapGroup("/feature-flags").MapFeatureFlagAdminEndpoints();
        admin.MapGroup("/messages").MapMessageAdminEndpoints();
        // Outside the API's prefix: a web page, and a well-known URI whose path is fixed (RFC 8615).
        app.MapDevelopmentPaymentPage();
        app.MapJwks();
    }

    app.MapAdmin();

    return await app.RunCommandAsync(command, commandArguments);
});

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
