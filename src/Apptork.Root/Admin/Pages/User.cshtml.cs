using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// One account for support: identities, sessions, fraud signals and linked accounts, role, ban, wallet balance (read
/// only). Ban, unban and ending every session go through the services the command line and the API use
/// (<see cref="AccountControls"/>, <see cref="Sessions"/>), each with a reason and an audit row; a form posted against
/// a state that changed since it was shown changes nothing.
/// </summary>
public sealed class UserModel(RootDbContext db, AccountControls controls, Sessions sessions, RegistrationGuard registrations, AdminAudit audit)
    : AdminPageModel
{
    /// <summary>Why the sessions ended, as <see cref="Session.RevokedReason"/> keeps it.</summary>
    public const string RevokedByStaff = "revoked_by_staff";

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    /// <summary>Whether the account was banned when the form was shown.</summary>
    [BindProperty]
    public bool ExpectedBanned { get; set; }

    public User? Account { get; private set; }

    public IReadOnlyList<IdentityUserLogin<Guid>> Logins { get; private set; } = [];

    public IReadOnlyList<Session> SessionList { get; private set; } = [];

    public IReadOnlyList<AccountFlag> Flags { get; private set; } = [];

    public IReadOnlyList<Registration> Registrations { get; private set; } = [];

    public IReadOnlyList<LinkedAccount> Linked { get; private set; } = [];

    public long? Balance { get; private set; }

    public bool Banned => Account?.DisabledAt is not null;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostBanAsync(CancellationToken cancellationToken) =>
        ActAsync(expectBanned: false, async user =>
        {
            audit.Record(Actor, AdminActions.UserBanned, user.Id.ToString(), new { banned = false }, new { banned = true }, Reason);
            // The ban saves the audit row with the account's new state, then ends its sessions.
            await controls.BanAsync(user, cancellationToken);
            return "UserBannedNotice";
        }, cancellationToken);

    public Task<IActionResult> OnPostUnbanAsync(CancellationToken cancellationToken) =>
        ActAsync(expectBanned: true, async user =>
        {
            audit.Record(Actor, AdminActions.UserUnbanned, user.Id.ToString(), new { banned = true }, new { banned = false }, Reason);
            await controls.LiftAsync(user, cancellationToken);
            return "UserUnbannedNotice";
        }, cancellationToken);

    public Task<IActionResult> OnPostRevokeAsync(CancellationToken cancellationToken) =>
        ActAsync(expectBanned: ExpectedBanned, async user =>
        {
            // One transaction: the sessions end with their audit row or not at all.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var ended = await sessions.RevokeAllAsync(user.Id, RevokedByStaff, cancellationToken);
            audit.Record(Actor, AdminActions.UserSessionsRevoked, user.Id.ToString(), new { open_sessions = ended }, new { open_sessions = 0 }, Reason);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return "UserSessionsRevokedNotice";
        }, cancellationToken);

    /// <summary>Refuses a missing reason and a form shown before the ban state changed; otherwise acts, then shows the account again.</summary>
    private async Task<IActionResult> ActAsync(bool expectBanned, Func<User, Task<string>> act, CancellationToken cancellationToken)
    {
        var user = await db.Users.FirstOrDefaultAsync(candidate => candidate.Id == Id && candidate.DeletedAt == null, cancellationToken);
        if (user is null)
        {
            return NotFound();
        }

        if (string.IsNullOrWhiteSpace(Reason))
        {
            Error = "ErrorReasonRequired";
        }
        else if ((user.DisabledAt is not null) != expectBanned || ExpectedBanned != expectBanned)
        {
            Error = "ErrorUserChanged";
        }
        else
        {
            Reason = Reason.Trim();
            Notice = await act(user);
            Reason = null;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        Account = await db.Users.AsNoTracking().FirstOrDefaultAsync(user => user.Id == Id, cancellationToken);
        if (Account is null)
        {
            return false;
        }

        Logins = await db.UserLogins.AsNoTracking().Where(login => login.UserId == Id).OrderBy(login => login.LoginProvider).ToListAsync(cancellationToken);
        SessionList = await db.Sessions.AsNoTracking().Where(session => session.UserId == Id)
            .OrderByDescending(session => session.CreatedAt).ThenBy(session => session.Id).ToListAsync(cancellationToken);
        Flags = await db.AccountFlags.AsNoTracking().Where(flag => flag.UserId == Id).OrderBy(flag => flag.Id).ToListAsync(cancellationToken);
        Registrations = await db.Registrations.AsNoTracking().Where(registration => registration.UserId == Id).OrderBy(registration => registration.Id).ToListAsync(cancellationToken);
        Linked = await registrations.LinkedAccountsAsync(Id, cancellationToken);
        Balance = await db.Wallets.AsNoTracking().Where(wallet => wallet.UserId == Id).Select(wallet => (long?)wallet.Balance).FirstOrDefaultAsync(cancellationToken);
        return true;
    }
}
