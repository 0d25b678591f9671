using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>Identity writes whose refusal by a unique key means a concurrent sign-in got there first, not a failure.</summary>
public static partial class IdentityWrites
{
    /// <summary>False when a unique key (identity, canonical address) or the user's concurrency stamp was taken first.</summary>
    public static async Task<bool> SucceededAsync(Func<Task<IdentityResult>> write, ILogger logger)
    {
        try
        {
            var result = await write();
            if (!result.Succeeded)
            {
                // IdentityResult prints as "Failed : DuplicateEmail,LoginAlreadyAssociated".
                LogWriteRefused(logger, result);
            }

            return result.Succeeded;
        }
        catch (DbUpdateException exception)
        {
            LogWriteRefused(logger, exception.InnerException?.Message ?? exception.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "An account write lost a race with a concurrent sign-in or was refused by Identity: {Reason}")]
    private static partial void LogWriteRefused(ILogger logger, object reason);
}
