using Apptork.Root.Admin.Audit;
using Apptork.Root.Platform;
using Apptork.Root.Platform.Configuration;
using Apptork.Root.Platform.Hosting;
using Apptork.Root.Platform.Networking;
using Apptork.Root.Platform.Persistence;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin.Staff;

/// <summary>
/// <c>Apptork.Root create-admin EMAIL [superuser|support|finance]</c>: how the first operator gets in. The account has no
/// password; the command prints a one-time enrolment link where its owner sets one and enrols TOTP. The role is a word
/// rather than <c>--role</c>: options after the verb are host settings, and <c>--role</c> would set the process role.
/// </summary>
public sealed partial class CreateAdminCommand(ILogger<CreateAdminCommand> logger) : IFeatureCommand
{
    private const int UsageExitCode = 64;
    private const int RefusedExitCode = 65;

    public string Name => "create-admin";

    public async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var (email, role) = arguments switch
        {
            [var only] => (only, StaffRoles.Superuser),
            [var first, var second] => (first, second),
            _ => (null, null),
        };
        if (email is null || !StaffRoles.IsKnown(role))
        {
            LogUsage(logger);
            return UsageExitCode;
        }

        // As serve does: the embedded shape brings its own SQLite file up to date; the production shape needs `migrate` first.
        if (services.GetRequiredService<RuntimeShape>().IsEmbedded)
        {
            await DatabaseMigrator.MigrateAsync(services, cancellationToken);
        }

        var accounts = services.GetRequiredService<StaffAccounts>();
        var (staff, token, error) = await accounts.CreateAsync(email, role!, new AuditActor(null, "command line", null), AdminActions.StaffCreated, cancellationToken);
        if (staff is null)
        {
            var reason = AdminTexts.Get(error!);
            LogRefused(logger, email, reason);
            return RefusedExitCode;
        }

        var admin = services.GetRequiredService<IOptions<AdminOptions>>().Value;
        var link = $"{BaseUrl(services)}{admin.Path}/enrol?token={Uri.EscapeDataString(token!)}";
        LogCreated(logger, staff.Email, staff.Role, admin.EnrolmentLinkHours);
        // Printed, never logged: the link is a credential until it is used, and logs travel to shared places.
        await Console.Out.WriteLineAsync($"Enrolment link (one use, valid {admin.EnrolmentLinkHours} h): {link}");
        return 0;
    }

    /// <summary><c>Http__PublicBaseUrl</c>, else the first address the server is set to listen on.</summary>
    private static string BaseUrl(IServiceProvider services)
    {
        if (services.GetRequiredService<IOptions<PublicUrlOptions>>().Value.BaseUri is { } configured)
        {
            return configured.AbsoluteUri.TrimEnd('/');
        }

        var urls = services.GetRequiredService<IConfiguration>()[WebHostDefaults.ServerUrlsKey];
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return (first ?? PlatformModule.DefaultUrl).TrimEnd('/');
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Usage: create-admin EMAIL [superuser|support|finance] (default superuser)")]
    private static partial void LogUsage(ILogger logger);

    [LoggerMessage(Level = LogLevel.Critical, Message = "No staff account created for {Email}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string email, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Staff account {Email} created with role {Role}; it has no password until its owner enrols through the link below ({Hours} h)")]
    private static partial void LogCreated(ILogger logger, string email, string role, int hours);
}
