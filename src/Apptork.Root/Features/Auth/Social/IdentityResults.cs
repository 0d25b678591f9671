using Microsoft.AspNetCore.Identity;

namespace Apptork.Root.Features.Auth.Social;

internal static class IdentityResults
{
    /// <summary>For Identity writes that can only fail on a bug: a 500 with the reasons in the log.</summary>
    public static void ThrowIfFailed(this IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Identity refused a write: {string.Join("; ", result.Errors.Select(error => error.Code))}");
        }
    }
}
