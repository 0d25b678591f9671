using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>A staff member enrolled through the product's own service, with what it takes to sign in.</summary>
public sealed record EnrolledStaff(Guid Id, string Email, string Role, string Password, string Secret, IReadOnlyList<string> RecoveryCodes)
{
    /// <summary>
    /// A code for the next TOTP step: enrolment spent the current one, and one code signs in once. The server accepts
    /// one step of drift ahead of its clock: give <paramref name="clock"/> when the application runs on a test's own.
    /// </summary>
    public string NextCode(TimeProvider? clock = null) => StaffSeed.Code(Secret, (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime.AddSeconds(30));
}

public static class StaffSeed
{
    public const string Password = "correct horse battery staple";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static string Code(string secret, DateTime at) => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(at);

    public static async Task<EnrolledStaff> EnrolledAsync(RootApp app, string email, string role)
    {
        var (staff, accounts, scope) = await CreatedAsync(app, email, role);
        await using (scope)
        {
            var (secret, _) = accounts.TotpEnrolment(staff);
            var codes = await accounts.CompleteEnrolmentAsync(staff, Code(secret, DateTime.UtcNow), new AuditActor(null, "test", null), Cancel);
            codes.ShouldNotBeNull();
            return new EnrolledStaff(staff.Id, staff.Email, role, Password, secret, codes);
        }
    }

    /// <summary>A member invited but not enrolled, and the token of their enrolment link.</summary>
    public static async Task<string> InvitedAsync(RootApp app, string email, string role)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var (_, token, error) = await scope.ServiceProvider.GetRequiredService<StaffAccounts>()
            .CreateAsync(email, role, new AuditActor(null, "test", null), AdminActions.StaffInvited, Cancel);
        error.ShouldBeNull();
        return token!;
    }

    /// <summary>A member who set a password through the link but never confirmed a TOTP code.</summary>
    public static async Task<StaffMember> WithPasswordOnlyAsync(RootApp app, string email, string role)
    {
        var (staff, _, scope) = await CreatedAsync(app, email, role);
        await scope.DisposeAsync();
        return staff;
    }

    public static async Task<T> WithDbAsync<T>(RootApp app, Func<RootDbContext, Task<T>> read)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<RootDbContext>());
    }

    public static Task<List<AdminAuditEntry>> AuditAsync(RootApp app) =>
        WithDbAsync(app, db => db.AdminAudit.AsNoTracking().OrderBy(entry => entry.Id).ToListAsync(Cancel));

    private static async Task<(StaffMember Staff, StaffAccounts Accounts, AsyncServiceScope Scope)> CreatedAsync(RootApp app, string email, string role)
    {
        var scope = app.Services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<StaffAccounts>();
        var (staff, _, error) = await accounts.CreateAsync(email, role, new AuditActor(null, "test", null), AdminActions.StaffCreated, Cancel);
        error.ShouldBeNull();
        (await accounts.SetPasswordAsync(staff!, Password, Password, Cancel)).ShouldBeNull();

        return (staff!, accounts, scope);
    }
}
