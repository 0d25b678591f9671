using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Admin;

/// <summary>The <c>Admin__*</c> settings of the operator control plane.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>Where the control plane is served: lowercase path segments, outside the API's <c>/api</c>.</summary>
    [RegularExpression("^(?!/api(/|$))(/[a-z0-9][a-z0-9-]*)+$", ErrorMessage = "must be a path such as /admin: lowercase segments, not under /api.")]
    public string Path { get; set; } = "/admin";

    /// <summary>A staff session ends after this long without a request (sliding).</summary>
    [Range(5, 480)]
    public int IdleTimeoutMinutes { get; set; } = 30;

    /// <summary>Failed sign-ins in a row that lock the account.</summary>
    [Range(3, 20)]
    public int MaxFailedSignIns { get; set; } = 5;

    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>How long an enrolment link (from <c>create-admin</c> or an invitation) can be used.</summary>
    [Range(1, 168)]
    public int EnrolmentLinkHours { get; set; } = 24;
}
