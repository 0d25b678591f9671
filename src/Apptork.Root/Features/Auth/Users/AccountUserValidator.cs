using Microsoft.AspNetCore.Identity;

namespace Apptork.Root.Features.Auth.Users;

/// <summary>
/// Identity's validator, except that an account may have no email address at all: a provider account whose address
/// the provider cannot vouch for is created without one (see <c>SocialAccounts</c>). Identity requires an address
/// whenever addresses are unique; an address that is present is still checked and must still be unique.
/// </summary>
public sealed class AccountUserValidator(IdentityErrorDescriber describer) : UserValidator<User>(describer)
{
    public override async Task<IdentityResult> ValidateAsync(UserManager<User> manager, User user)
    {
        var result = await base.ValidateAsync(manager, user);
        if (result.Succeeded || user.Email is not null)
        {
            return result;
        }

        var errors = result.Errors.Where(error => error.Code != nameof(IdentityErrorDescriber.InvalidEmail)).ToArray();
        return errors.Length == 0 ? IdentityResult.Success : IdentityResult.Failed(errors);
    }
}
