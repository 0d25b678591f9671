using System.Globalization;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>
/// The real application on a real Kestrel socket (so body limits, headers and connection handling are the
/// production ones), configured only through settings, exactly as an operator would configure it.
/// </summary>
public sealed class RootApp : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string?> settings;
    private readonly TestExtensions? extensions;
    private string? postgresConnectionString;

    private RootApp(IReadOnlyDictionary<string, string?> settings, TestExtensions? extensions)
    {
        this.settings = settings;
        this.extensions = extensions;
    }

    public CapturedLogs Logs { get; } = new();

    /// <summary>
    /// Starts the application on a fresh migrated database of the given shape. In the production shape, mail goes to the
    /// assembly's <see cref="SmtpServer"/> unless <paramref name="settings"/> choose otherwise.
    /// </summary>
    /// <param name="extensions">Endpoints only a test needs (to provoke a failure no product route provokes); they run inside the product's whole pipeline.</param>
    public static async Task<RootApp> StartAsync(
        TestDatabases databases,
        DatabaseShape shape,
        IReadOnlyDictionary<string, string?>? settings = null,
        TestExtensions? extensions = null)
    {
        var connectionString = await databases.CreateAsync(shape);
        return await StartOnAsync(shape, connectionString, settings, extensions);
    }

    /// <summary>Starts another process-like host on an existing database, e.g. a second instance beside the first.</summary>
    public static async Task<RootApp> StartOnAsync(
        DatabaseShape shape, string connectionString, IReadOnlyDictionary<string, string?>? settings = null, TestExtensions? extensions = null)
    {
        Category.RefuseInFastTest("an application host");
        var all = new Dictionary<string, string?>
        {
            ["Database:Provider"] = shape.ToString(),
            [$"ConnectionStrings:{shape}"] = connectionString,
            // The embedded shape makes its own keys: in a folder of this test's, never in a developer's data/.
            ["Auth:KeyDirectory"] = Directory.CreateTempSubdirectory("apptork-keys-").FullName,
            // Every test client signs up from 127.0.0.1; the tests of the per-IP registration cap set their own.
            ["Fraud:Registration:MaxPerIp"] = "1000",
            // Wallets start empty so balances in tests are only what the test posted; the bonus tests set their own.
            ["Wallet:SignupBonus"] = "0",
            // Hundreds of test hosts run at once; a couple of job workers each is plenty, and spares PostgreSQL's connections.
            ["Jobs:WorkerCount"] = "2",
            ["Jobs:ShutdownTimeoutSeconds"] = "5",
            // No load balancer reads a test host's readiness: it stops without the production shape's drain.
            ["Shutdown:DrainSeconds"] = "0",
        };
        if (shape == DatabaseShape.Postgres)
        {
            foreach (var (key, value) in TestSecrets.Settings)
            {
                all[key] = value;
            }

            // The production shape refuses to write mail to the log: unless the test says otherwise, it mails the shared SMTP peer.
            var smtp = await TestContext.Current.GetFixture<SmtpServer>()
                ?? throw new InvalidOperationException("The production shape needs the SMTP peer, an assembly fixture available only inside a test.");
            all["Email:Provider"] = "Smtp";
            all["Email:Smtp:Host"] = smtp.Host;
            all["Email:Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture);
            all["Email:Smtp:UseTls"] = "false";
            // Every app its own sender, so a test reading the shared peer sees only its own app's mail.
            all["Email:From"] = $"Apptork Root <app-{Guid.NewGuid():N}@apptork.test>";
            // The production shape requires a storage choice; one host per test, so its local disk (the S3 tests choose S3).
            all["Storage:Provider"] = "Local";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        // The production shape requires the URL clients reach it at, port included, before it listens: the port is chosen
        // here rather than by the server. The embedded shape makes its links from the port the server chose.
        var port = 0;
        if (shape == DatabaseShape.Postgres && !all.ContainsKey("Http:PublicBaseUrl"))
        {
            port = ServerHost.FreeLoopbackPort();
            all["Http:PublicBaseUrl"] = $"http://127.0.0.1:{port}";
        }

        var app = new RootApp(all, extensions) { postgresConnectionString = shape == DatabaseShape.Postgres ? connectionString : null };
        app.UseKestrel(port);
        app.StartServer();
        return app;
    }

    /// <summary>
    /// Closes the idle connections this host leaves in Npgsql's process-wide pool for its database (the application's
    /// and its job workers'): hundreds of test hosts would otherwise keep PostgreSQL's connection slots for minutes.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        // The application's pool, and its job storage's, which runs under its own application name and size (read while the host's settings are still there).
        string[] pools = postgresConnectionString is null
            ? []
            : [postgresConnectionString, Apptork.Root.Platform.Jobs.JobsSetup.JobsConnectionString(Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>())];
        await base.DisposeAsync();
        foreach (var pooled in pools)
        {
            await using var connection = new Npgsql.NpgsqlConnection(pooled);
            Npgsql.NpgsqlConnection.ClearPool(connection);
        }
    }

    public HttpClient Client(string? acceptLanguage = null)
    {
        var client = CreateClient();
        if (acceptLanguage is not null)
        {
            client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(acceptLanguage);
        }

        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        if (extensions is not null)
        {
            builder.ConfigureServices(services =>
            {
                extensions.Services?.Invoke(services);
                if (extensions.Endpoints is not null)
                {
                    services.AddSingleton<IStartupFilter>(new ExtraEndpoints(extensions.Endpoints));
                }
            });
        }
    }

    /// <summary>Test-only endpoints and the services they need.</summary>
    public sealed record TestExtensions(Action<IEndpointRouteBuilder>? Endpoints = null, Action<IServiceCollection>? Services = null);

    /// <summary>
    /// Maps the test's endpoints into the application's own route table, so the product's routing matches them and its
    /// endpoint-aware middleware (authorization, throttling) applies to them as to any product endpoint.
    /// </summary>
    private sealed class ExtraEndpoints(Action<IEndpointRouteBuilder> map) : IStartupFilter
    {
        // Where UseRouting leaves the route builder it matches against: for a WebApplication, the application itself.
        private const string RouteBuilderProperty = "__EndpointRouteBuilder";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            var routes = app.Properties.TryGetValue(RouteBuilderProperty, out var builder) && builder is IEndpointRouteBuilder found
                ? found
                : throw new InvalidOperationException($"The application's pipeline left no '{RouteBuilderProperty}': test endpoints would not be routed by it.");
            map(routes);
            // Publishes the new endpoints to the rest of the framework too (the OpenAPI document reads them from there).
            app.UseEndpoints(_ => { });
        };
    }
}
