namespace Apptork.Root.Admin.Staff;

/// <summary>What a staff member may do in the control plane; checked on the server by <see cref="Security.AdminPolicies"/>.</summary>
public static class StaffRoles
{
    public const string Superuser = "superuser";
    public const string Support = "support";
    public const string Finance = "finance";

    public static IReadOnlyList<string> All { get; } = [Superuser, Support, Finance];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);
}
