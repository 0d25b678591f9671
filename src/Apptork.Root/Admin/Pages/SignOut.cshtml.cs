using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin.Pages;

/// <summary>A POST only (with its antiforgery token), so no link or image elsewhere can sign a member out.</summary>
public sealed class SignOutModel(AdminAudit audit, Platform.Persistence.RootDbContext database, IOptions<AdminOptions> options) : AdminPageModel
{
    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        audit.Record(Actor, AdminActions.SignedOut);
        await database.SaveChangesAsync(cancellationToken);
        await HttpContext.SignOutAsync(AdminCookie.Scheme);
        return LocalRedirect($"{options.Value.Path}/sign-in");
    }
}
