using System.Security.Cryptography;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Throttling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WalletDebits;

/// <summary>
/// The real application in its production shape on a real Kestrel socket, configured only through settings (as the
/// tests' RootApp does), plus one bench-only route, <see cref="DebitPath"/>, mapped into its own route table. Extra
/// settings replace the defaults: several hosts of one deployment (bench/fleet.sh) share its secrets, keys and mail server.
/// </summary>
internal sealed class ProductHost(string connectionString, string redisConnectionString, IReadOnlyDictionary<string, string>? settings)
    : WebApplicationFactory<Program>
{
    private const string ApiGroup = "/api/v1";
    private const string DebitRoute = "/bench/debits";
    public const string DebitPath = ApiGroup + DebitRoute;

    public Uri Address => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    /// <summary>Starts the host on <paramref name="port"/> (0: any free port), with <paramref name="settings"/> over the defaults.</summary>
    public static ProductHost Start(
        string connectionString, string redisConnectionString, int port = 0, IReadOnlyDictionary<string, string>? settings = null)
    {
        var host = new ProductHost(connectionString, redisConnectionString, settings);
        host.UseKestrel(port);
        host.StartServer();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // As deployed: WebApplicationFactory would otherwise run the application as Development.
        builder.UseEnvironment(Environments.Production);
        using var signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var defaults = new Dictionary<string, string>
        {
            // An API process, as production runs them: job workers live in processes of their own.
            ["Role"] = "api",
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
            // Shared by the processes of a deployment: throttle counters and Idempotency-Keys.
            ["ConnectionStrings:Redis"] = redisConnectionString,
            ["Auth:Secret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            ["Auth:Jwt:SigningKeys:0"] = signingKey.ExportECPrivateKeyPem(),
            // The tokens are issued once, before the warm-up; they must outlive the longest run the arguments allow.
            ["Auth:Jwt:AccessTokenMinutes"] = "60",
            // The production shape refuses the Log provider. SMTP is reached only to send, and nothing is sent here.
            ["Email:Provider"] = "Smtp",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = "9",
            ["Email:Smtp:UseTls"] = "false",
            // The production shape requires a storage choice; debits store no files.
            ["Storage:Provider"] = "Local",
            // The production shape requires the address clients reach it at, whose host is the only one it answers to.
            ["Http:PublicBaseUrl"] = "http://127.0.0.1",
            // The production shape requires the health page's secret path.
            ["Health:Path"] = $"/health-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}",
            // Limits nothing reaches: every request pays the throttle check, none is refused.
            ["Throttling:Rates:anon:anonymous"] = "100000000/minute",
            ["Throttling:Rates:user:free"] = "100000000/minute",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            defaults[key] = value;
        }

        foreach (var (key, value) in defaults)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new BenchEndpoints()));
    }

    /// <summary>
    /// A debit of one credit, as a generation will post it: signed in, throttled like every <c>/api/v1</c> route, with a
    /// required Idempotency-Key that is also the ledger entry's key.
    /// </summary>
    private static async Task<Ok<DebitView>> DebitAsync(HttpContext context, Ledger ledger, CancellationToken cancellationToken)
    {
        var key = context.Request.Headers[IdempotencyMiddleware.Header].ToString();
        var posting = await ledger.PostAsync(
            context.User.UserId(), -1, LedgerEntryKind.Generation, key, reference: null, @operator: null, memo: null, cancellationToken);
        return TypedResults.Ok(new DebitView(posting.Entry.BalanceAfter));
    }

    internal sealed record DebitView(long Balance);

    /// <summary>
    /// Maps the bench route into the application's own route table, so the product's routing matches it and its
    /// endpoint-aware middleware (authorization, throttling, idempotency) applies to it as to any product endpoint.
    /// </summary>
    private sealed class BenchEndpoints : IStartupFilter
    {
        // Where UseRouting leaves the route builder it matches against: for a WebApplication, the application itself.
        private const string RouteBuilderProperty = "__EndpointRouteBuilder";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            var routes = app.Properties.TryGetValue(RouteBuilderProperty, out var builder) && builder is IEndpointRouteBuilder found
                ? found
                : throw new InvalidOperationException($"The application's pipeline left no '{RouteBuilderProperty}': the bench route would not be routed by it.");
            // The same group conventions as Program.cs gives /api/v1.
            routes.MapGroup(ApiGroup).Throttle(ThrottleScopes.Anon, ThrottleScopes.User)
                .MapPost(DebitRoute, DebitAsync).RequireAuthorization().Idempotent();
            // Publishes the route to the rest of the framework too, as the tests' RootApp does.
            app.UseEndpoints(_ => { });
        };
    }
}
