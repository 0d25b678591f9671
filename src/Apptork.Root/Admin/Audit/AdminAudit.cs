using System.Net;
using System.Text.Json;
using Apptork.Root.Platform.Persistence;

namespace Apptork.Root.Admin.Audit;

/// <summary>Who acts: a signed-in staff member, or the command line (no id, no address).</summary>
public sealed record AuditActor(Guid? StaffId, string Email, IPAddress? Ip);

/// <summary>Adds audit rows to the caller's unit of work, so a row is saved exactly when what it describes is.</summary>
public sealed class AdminAudit(RootDbContext database, TimeProvider time)
{
    public void Record(AuditActor actor, string action, string? target = null, object? before = null, object? after = null, string? reason = null) =>
        database.AdminAudit.Add(new AdminAuditEntry
        {
            StaffId = actor.StaffId,
            StaffEmail = Truncate(actor.Email, AdminAuditEntry.MaxEmailLength)!,
            Action = action,
            Target = Truncate(target, AdminAuditEntry.MaxTargetLength),
            Before = before is null ? null : JsonSerializer.Serialize(before),
            After = after is null ? null : JsonSerializer.Serialize(after),
            Reason = Truncate(reason, AdminAuditEntry.MaxReasonLength),
            At = time.GetUtcNow(),
            Ip = actor.Ip?.ToString(),
        });

    /// <summary>
    /// The text key refusing an action's reason, or null when it will do: every change an operator makes says why, within
    /// what the row that keeps the reason (<paramref name="maxLength"/>) holds.
    /// </summary>
    public static string? ReasonError(string? reason, int maxLength) =>
        string.IsNullOrWhiteSpace(reason) ? "ErrorReasonRequired"
        : reason.Trim().Length > maxLength ? "ErrorReasonTooLong"
        : null;

    private static string? Truncate(string? text, int length) => text is null || text.Length <= length ? text : text[..length];
}
