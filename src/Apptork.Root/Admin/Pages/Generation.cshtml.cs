using Apptork.Root.Admin.Generations;
using Apptork.Root.Admin.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// One generation: every staff role reads it; its handlers need their own roles, checked here on the server because one
/// page holds both (a retry: support or a superuser; a refund: finance or a superuser).
/// </summary>
public sealed class GenerationModel(GenerationOperations operations, IAuthorizationService authorization) : AdminPageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    /// <summary>The generation's version when the form was shown.</summary>
    [BindProperty]
    public long Version { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public GenerationDetails? Found { get; private set; }

    public bool MayRetry { get; private set; }

    public bool MayRefund { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostRetryAsync(CancellationToken cancellationToken) =>
        ActAsync(AdminPolicies.Support, "GenerationRetriedNotice", () => operations.RetryAsync(Id, Version, Reason, Actor, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostRefundAsync(CancellationToken cancellationToken) =>
        ActAsync(AdminPolicies.Finance, "GenerationRefundedNotice", () => operations.RefundAsync(Id, Version, Reason, Actor, cancellationToken), cancellationToken);

    private async Task<IActionResult> ActAsync(string policy, string notice, Func<Task<GenerationActionResult>> act, CancellationToken cancellationToken)
    {
        if (!(await authorization.AuthorizeAsync(User, policy)).Succeeded)
        {
            return Forbid(AdminCookie.Scheme);
        }

        var result = await act();
        if (result.Error == "ErrorGenerationNotFound")
        {
            return NotFound();
        }

        Error = result.Error;
        if (Error is null)
        {
            Notice = notice;
            Reason = null;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        Found = await operations.FindAsync(Id, cancellationToken);
        MayRetry = (await authorization.AuthorizeAsync(User, AdminPolicies.Support)).Succeeded;
        MayRefund = (await authorization.AuthorizeAsync(User, AdminPolicies.Finance)).Succeeded;
        return Found is not null;
    }
}
