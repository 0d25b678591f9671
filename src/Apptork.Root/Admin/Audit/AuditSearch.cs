using System.Reflection;
using Apptork.Root.Admin.Exports;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Audit;

/// <summary>The audit page's filters as the form sends them: text, checked by <see cref="AuditSearch.Parse"/>.</summary>
public sealed record AuditFilterInput(string? StaffEmail, string? Action, string? Target, string? From, string? To)
{
    /// <summary>What the audit row of an export says was exported.</summary>
    public object ForAudit() => new { StaffEmail, Action, Target, From, To };
}

/// <summary>A checked filter: every field that was given, trimmed.</summary>
public sealed record AuditFilter(string? StaffEmail, string? Action, string? Target, UtcDateRange Dates);

/// <summary>Searches the audit log: by the acting member's address, the action, part of the target, and UTC days.</summary>
public sealed class AuditSearch(RootDbContext database)
{
    /// <summary>Every action name of <see cref="AdminActions"/>, in the order they are declared, for the form's choice.</summary>
    public static IReadOnlyList<string> Actions { get; } = typeof(AdminActions).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral && field.FieldType == typeof(string)).Select(field => (string)field.GetRawConstantValue()!).ToArray();

    /// <summary>The filter, or null with the text keys of the wrong fields (each naming its field).</summary>
    public static (AuditFilter? Filter, IReadOnlyList<string> Errors) Parse(AuditFilterInput input)
    {
        var errors = new List<string>();
        var action = Blank(input.Action);
        if (action is not null && !Actions.Contains(action))
        {
            errors.Add("ErrorAuditActionInvalid");
        }

        var staffEmail = Blank(input.StaffEmail);
        if (staffEmail?.Length > AdminAuditEntry.MaxEmailLength)
        {
            errors.Add("ErrorAuditStaffEmailTooLong");
        }

        var target = Blank(input.Target);
        if (target?.Length > AdminAuditEntry.MaxTargetLength)
        {
            errors.Add("ErrorAuditTargetTooLong");
        }

        var dates = UtcDateRange.Parse(input.From, input.To, errors);
        return errors.Count > 0 ? (null, errors) : (new AuditFilter(staffEmail, action, target, dates), errors);
    }

    /// <summary>The matching entries, unordered: the page orders them by id, newest first.</summary>
    public IQueryable<AdminAuditEntry> Query(AuditFilter filter)
    {
        var entries = database.AdminAudit.AsNoTracking();
        if (filter.StaffEmail is { } email)
        {
            // The member's entries by id, in any spelling of their address and after a rename; the address as typed for
            // entries of no account (a sign-in that named no one).
            var normalized = StaffMember.Normalize(email);
            var staffIds = database.StaffMembers.Where(member => member.NormalizedEmail == normalized).Select(member => (Guid?)member.Id);
            entries = entries.Where(entry => staffIds.Contains(entry.StaffId) || entry.StaffEmail == email);
        }

        if (filter.Action is { } action)
        {
            entries = entries.Where(entry => entry.Action == action);
        }

        if (filter.Target is { } target)
        {
            entries = entries.Where(entry => entry.Target != null && entry.Target.Contains(target));
        }

        if (filter.Dates.From is { } from)
        {
            entries = entries.Where(entry => entry.At >= from);
        }

        if (filter.Dates.Before is { } before)
        {
            entries = entries.Where(entry => entry.At < before);
        }

        return entries;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
