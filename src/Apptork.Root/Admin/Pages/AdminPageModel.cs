using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Security;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Apptork.Root.Admin.Pages;

/// <summary>What every control-plane page needs: the acting member for the audit log, and the messages it shows.</summary>
public abstract class AdminPageModel : PageModel
{
    /// <summary>A text key of <c>AdminTexts</c>: shown as the page's error.</summary>
    public string? Error { get; protected set; }

    /// <summary>A text key of <c>AdminTexts</c>: shown as the page's confirmation.</summary>
    public string? Notice { get; protected set; }

    /// <summary>The signed-in member, or only the client's address on the pages before sign-in.</summary>
    protected AuditActor Actor => new(User.StaffId(), User.Identity?.Name ?? string.Empty, HttpContext.Connection.RemoteIpAddress);
}
