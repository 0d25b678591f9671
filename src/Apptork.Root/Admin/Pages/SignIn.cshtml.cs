using Apptork.Root.Admin.Security;
using Apptork.Root.Admin.Staff;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin.Pages;

/// <summary>Email, password and a TOTP (or recovery) code; every refusal says the same, so it tells nobody which accounts exist.</summary>
public sealed class SignInModel(StaffAccounts accounts, IOptions<AdminOptions> options) : AdminPageModel
{
    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty]
    public string? Code { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var path = options.Value.Path;
        switch (await accounts.SignInAsync(Email, Password, Code, Actor, cancellationToken))
        {
            case SignInOutcome.SignedIn signedIn:
                await HttpContext.SignInAsync(AdminCookie.Scheme, AdminPolicies.Principal(signedIn.Staff));
                // Back to the page that asked for sign-in, only if it is one of the control plane's own.
                return Url.IsLocalUrl(ReturnUrl) && ReturnUrl.StartsWith($"{path}/", StringComparison.Ordinal)
                    ? LocalRedirect(ReturnUrl)
                    : LocalRedirect(path);
            case SignInOutcome.MustEnrol mustEnrol:
                return LocalRedirect($"{path}/enrol?token={Uri.EscapeDataString(mustEnrol.EnrolmentToken)}");
            default:
                Error = "ErrorSignInRefused";
                return Page();
        }
    }
}
