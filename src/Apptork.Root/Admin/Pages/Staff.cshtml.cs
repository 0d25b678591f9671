using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Security;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Platform.Networking;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Admin.Pages;

/// <summary>Staff management, for superusers only: invite with a role (a one-time enrolment link), change a role, disable.</summary>
public sealed class StaffModel(StaffAccounts accounts, PublicUrls urls, IOptions<AdminOptions> options) : AdminPageModel
{
    public IReadOnlyList<StaffMember> Members { get; private set; } = [];

    [BindProperty]
    public string? InviteEmail { get; set; }

    [BindProperty]
    public string InviteRole { get; set; } = StaffRoles.Support;

    [BindProperty]
    public Guid Id { get; set; }

    [BindProperty]
    public string? Role { get; set; }

    [BindProperty]
    public string? ExpectedRole { get; set; }

    public string? InviteLink { get; private set; }

    public Guid? CurrentStaffId => User.StaffId();

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task OnPostInviteAsync(CancellationToken cancellationToken)
    {
        var (staff, token, error) = await accounts.CreateAsync(InviteEmail ?? string.Empty, InviteRole, Actor, AdminActions.StaffInvited, cancellationToken);
        Error = error;
        if (staff is not null)
        {
            InviteLink = urls.Absolute($"{options.Value.Path}/enrol?token={Uri.EscapeDataString(token!)}").AbsoluteUri;
            InviteEmail = null;
        }

        await LoadAsync(cancellationToken);
    }

    public async Task OnPostRoleAsync(CancellationToken cancellationToken)
    {
        Error = await accounts.ChangeRoleAsync(Id, Role ?? string.Empty, ExpectedRole ?? string.Empty, Actor, cancellationToken);
        Notice = Error is null ? "RoleChanged" : null;
        await LoadAsync(cancellationToken);
    }

    public async Task OnPostDisableAsync(CancellationToken cancellationToken)
    {
        Error = await accounts.DisableAsync(Id, Actor, cancellationToken);
        Notice = Error is null ? "StaffDisabledNotice" : null;
        await LoadAsync(cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Members = await accounts.ListAsync(cancellationToken);
}
