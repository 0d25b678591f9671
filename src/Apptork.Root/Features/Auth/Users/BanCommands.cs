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
        AccountArgument.RunAsync(services, Name, arguments, logger, async (bans, user) =>
        {
            var ended = await bans.BanAsync(user, cancellationToken);
            LogBanned(logger, user.Id, ended);
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Banned user {UserId}: {Sessions} session(s) ended, its access tokens refused from now on")]
    private static partial void LogBanned(ILogger logger, Guid userId, int sessions);
}

public sealed partial class UnbanCommand(ILogger<UnbanCommand> logger) : IFeatureCommand
{
    public string Name => "unban";

    public Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        AccountArgument.RunAsync(services, Name, arguments, logger, async (bans, user) =>
        {
            await bans.LiftAsync(user, cancellationToken);
            LogLifted(logger, user.Id);
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Ban lifted: user {UserId} can sign in again")]
    private static partial void LogLifted(ILogger logger, Guid userId);
}

/// <summary>The one account a command names, by email address or user id.</summary>
internal static partial class AccountArgument
{
    private const int UsageExitCode = 64;
    private const int NoSuchUserExitCode = 67;

    public static async Task<int> RunAsync(
        IServiceProvider services, string command, IReadOnlyList<string> arguments, ILogger logger, Func<AccountBans, User, Task> act)
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

        await act(services.GetRequiredService<AccountBans>(), user);
        return 0;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Usage: {Command} EMAIL|USER_ID")]
    private static partial void LogUsage(ILogger logger, string command);

    [LoggerMessage(Level = LogLevel.Critical, Message = "No account has the address or id {Account}")]
    private static partial void LogNoSuchUser(ILogger logger, string account);
}
