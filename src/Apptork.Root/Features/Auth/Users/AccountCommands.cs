using Apptork.Root.Platform.Hosting;
using Microsoft.AspNetCore.Identity;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>
/// <c>Apptork.Root ban EMAIL|USER_ID</c> and <c>unban EMAIL|USER_ID</c>: an operator's ban from the command line, with the
/// database settings of the running processes (and their Redis, for the ban to reach them at once rather than within
/// their periodic refresh).
/// </summary>
public sealed partial class BanCommand(ILogger<BanCommand> logger) : IFeatureCommand
{
    public string Name => "ban";

    public Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        AccountArgument.RunAsync(services, Name, arguments, logger, async (controls, user) =>
        {
            var ended = await controls.BanAsync(user, cancellationToken);
            LogBanned(logger, user.Id, ended);
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Banned user {UserId}: {Sessions} session(s) ended, its access tokens refused from now on")]
    private static partial void LogBanned(ILogger logger, Guid userId, int sessions);
}

public sealed partial class UnbanCommand(ILogger<UnbanCommand> logger) : IFeatureCommand
{
    public string Name => "unban";

    public Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        AccountArgument.RunAsync(services, Name, arguments, logger, async (controls, user) =>
        {
            await controls.LiftAsync(user, cancellationToken);
            LogLifted(logger, user.Id);
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Ban lifted: user {UserId} can sign in again")]
    private static partial void LogLifted(ILogger logger, Guid userId);
}

/// <summary>
/// <c>Apptork.Root set-role EMAIL|USER_ID free|premium|staff</c>: the role sets the throttling rates and opens the
/// operators' API (<c>staff</c>). A change ends the account's sessions, since access tokens carry the role: a demoted
/// operator must not keep a staff token for its remaining minutes.
/// </summary>
public sealed partial class SetRoleCommand(ILogger<SetRoleCommand> logger) : IFeatureCommand
{
    private static readonly string[] Roles = [UserRoles.Free, UserRoles.Premium, UserRoles.Staff];

    public string Name => "set-role";

    public Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        if (arguments is not [var account, var role] || !Roles.Contains(role))
        {
            LogUsage(logger);
            return Task.FromResult(AccountArgument.UsageExitCode);
        }

        return AccountArgument.RunAsync(services, Name, [account], logger, async (controls, user) =>
        {
            var ended = await controls.SetRoleAsync(user, role, cancellationToken);
            LogRoleSet(logger, user.Id, role, ended);
        });
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Usage: set-role EMAIL|USER_ID free|premium|staff")]
    private static partial void LogUsage(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} is now {Role}: {Sessions} session(s) ended, so its next sign-in carries the role")]
    private static partial void LogRoleSet(ILogger logger, Guid userId, string role, int sessions);
}

/// <summary>The one account a command names, by email address or user id.</summary>
internal static partial class AccountArgument
{
    public const int UsageExitCode = 64;
    private const int NoSuchUserExitCode = 67;

    public static async Task<int> RunAsync(
        IServiceProvider services, string command, IReadOnlyList<string> arguments, ILogger logger, Func<AccountControls, User, Task> act)
    {
        if (arguments is not [var account])
        {
            LogUsage(logger, command);
            return UsageExitCode;
        }

        var users = services.GetRequiredService<UserManager<User>>();
        var user = Guid.TryParse(account, out var id) ? await users.FindByIdAsync(id.ToString()) : await users.FindByEmailAsync(account);
        if (user is null || user.DeletedAt is not null)
        {
            LogNoSuchUser(logger, account);
            return NoSuchUserExitCode;
        }

        await act(services.GetRequiredService<AccountControls>(), user);
        return 0;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Usage: {Command} EMAIL|USER_ID")]
    private static partial void LogUsage(ILogger logger, string command);

    [LoggerMessage(Level = LogLevel.Critical, Message = "No account has the address or id {Account}")]
    private static partial void LogNoSuchUser(ILogger logger, string account);
}
