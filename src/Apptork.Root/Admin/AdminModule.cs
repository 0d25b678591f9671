using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Catalog;
using Apptork.Root.Admin.Dashboard;
using Apptork.Root.Admin.Generations;
using Apptork.Root.Admin.Security;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Admin.Wallets;
using Apptork.Root.Platform;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Hosting;
using Hangfire;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin;

/// <summary>
/// The operator control plane: server-rendered Razor Pages at <c>Admin__Path</c>, for staff accounts of its own with a
/// password and TOTP. It lives in one top-level <c>Admin/</c> folder beside <c>Features/</c> and <c>Platform/</c>, not in
/// each feature's folder: it is a second front end over every feature, with its own sign-in, cookie, headers and audit
/// log, and keeping its pages together keeps that security boundary in one place to review. Its screens read and change
/// the features' data through the features' own services and entities.
/// </summary>
public static class AdminModule
{
    /// <summary>Where Hangfire's dashboard answers, under <c>Admin__Path</c>.</summary>
    public const string JobsPath = "/jobs";

    public static WebApplicationBuilder AddAdmin(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<AdminOptions>(AdminOptions.Section);
        services.AddScoped<AdminAudit>();
        services.AddScoped<StaffAccounts>();
        services.AddScoped<WalletAdjustments>();
        services.AddScoped<Purchases.PurchaseRefunds>();
        services.AddScoped<Packs.PackEditor>();
        services.AddScoped<FlagEditor>();
        services.AddScoped<MessageEditor>();
        services.AddScoped<DomainRuleEditor>();
        services.AddScoped<LedgerSearch>();
        services.AddScoped<AuditSearch>();
        services.AddSingleton<IFeatureCommand, CreateAdminCommand>();
        services.AddSingleton<IStartupFilter, AdminRequestGuard>();
        services.AddScoped<GenerationOperations>();
        services.AddSingleton<DashboardHealth>();

        services.AddAuthentication().AddCookie(AdminCookie.Scheme);
        AdminCookie.ConfigureOptions(services);
        services.AddAuthorization(AdminPolicies.Add);
        services.AddAntiforgery();
        // The form token's cookie follows the request's scheme: with Secure always, antiforgery refuses every plain-http
        // request outright, and it is no credential on its own (the session cookie, Secure in production, is).
        services.AddOptions<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>()
            .Configure<IOptions<AdminOptions>>((antiforgery, admin) =>
            {
                antiforgery.Cookie.Name = AdminCookie.AntiforgeryName;
                antiforgery.Cookie.Path = admin.Value.Path;
                antiforgery.Cookie.SameSite = SameSiteMode.Strict;
                antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            });

        services.AddRazorPages(pages => pages.RootDirectory = "/Admin/Pages");
        services.AddOptions<RazorPagesOptions>().Configure<IOptions<AdminOptions>>((pages, admin) =>
        {
            var prefix = admin.Value.Path.TrimStart('/');
            pages.Conventions.AddFolderRouteModelConvention("/", model =>
            {
                foreach (var route in model.Selectors.Select(selector => selector.AttributeRouteModel!))
                {
                    route.Template = AttributeRouteModel.CombineTemplates(prefix, route.Template?.TrimStart('/'));
                }
            });
            // Everything needs an enrolled staff member, except the ways in; staff management and the audit log need a
            // superuser, wallets finance or a superuser.
            pages.Conventions.AuthorizeFolder("/", AdminPolicies.Staff);
            pages.Conventions.AllowAnonymousToPage("/SignIn");
            pages.Conventions.AllowAnonymousToPage("/Enrol");
            pages.Conventions.AuthorizePage("/Staff", AdminPolicies.Superuser);
            pages.Conventions.AuthorizePage("/Audit", AdminPolicies.Superuser);
            pages.Conventions.AuthorizePage("/Wallet", AdminPolicies.Finance);
            // The users screen: support and superusers.
            pages.Conventions.AuthorizePage("/Users", AdminPolicies.Support);
            pages.Conventions.AuthorizePage("/User", AdminPolicies.Support);
            // Purchases and their refunds: finance and superusers; packs: finance reads them, only superusers change them.
            pages.Conventions.AuthorizePage("/Purchases", AdminPolicies.Finance);
            pages.Conventions.AuthorizePage("/Purchase", AdminPolicies.Finance);
            pages.Conventions.AuthorizePage("/Packs", AdminPolicies.Finance);
            pages.Conventions.AuthorizePage("/PackEdit", AdminPolicies.Superuser);
            // Flags and messages: every member reads; domain rules: support and superusers read. Changes on all three
            // need a superuser (ChangesNeedPolicy on each page).
            pages.Conventions.AuthorizePage("/Flags", AdminPolicies.Staff);
            pages.Conventions.AuthorizePage("/Messages", AdminPolicies.Staff);
            pages.Conventions.AuthorizePage("/Domains", AdminPolicies.Support);
            // The ledger across wallets and its export: finance and superusers.
            pages.Conventions.AuthorizePage("/Ledger", AdminPolicies.Finance);
            // Generations: every staff role reads them (the folder's policy); the retry and refund handlers check their
            // own roles (GenerationModel).
        });
        return builder;
    }

    /// <summary>Served by the <c>api</c> and <c>all</c> roles only.</summary>
    public static WebApplication MapAdmin(this WebApplication app)
    {
        if (!app.ServesApi())
        {
            return app;
        }

        var path = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.Path;
        app.MapRazorPages();
        app.MapGet($"{path}/admin.css", () => Results.Text(AdminStyles.Css, "text/css; charset=utf-8")).ExcludeFromDescription();
        // Hangfire's dashboard, on the job storage from the container, behind the staff cookie: the endpoint's policy
        // sends the anonymous to sign in and refuses finance, and Hangfire's own filter checks the same again.
        app.MapHangfireDashboard(path + JobsPath, new DashboardOptions
        {
            AppPath = path,
            Authorization = [],
            AsyncAuthorization = [new JobsDashboardAuthorization()],
            IsReadOnlyFunc = JobsDashboardAuthorization.IsReadOnly,
            DisplayStorageConnectionString = false,
        }).RequireAuthorization(AdminPolicies.Support).ExcludeFromDescription();
        return app;
    }
}
