using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Fraud;

/// <summary>What happens when a new account's device already created another account.</summary>
public enum SharedDevicePolicy
{
    /// <summary>The account is created, without the signup bonus: a family sharing a tablet is common and legitimate.</summary>
    WithholdBonus,

    /// <summary>The account is refused with <c>duplicate_account</c>: one account per device.</summary>
    Refuse,
}

/// <summary><c>Fraud__Registration__*</c>: the deduplication policy applied when an account is created.</summary>
public sealed class RegistrationOptions
{
    public const string Section = "Fraud:Registration";

    /// <summary><c>Fraud__Registration__MaxPerIp</c>: accounts one IP address may create per window (then <c>registration_limit</c>).</summary>
    [Range(1, int.MaxValue)]
    public int MaxPerIp { get; set; } = 5;

    /// <summary><c>Fraud__Registration__IpWindowHours</c>: the rolling window of <see cref="MaxPerIp"/>.</summary>
    [Range(1, 24 * 365)]
    public int IpWindowHours { get; set; } = 24;

    /// <summary><c>Fraud__Registration__SharedDevice</c>: <c>WithholdBonus</c> or <c>Refuse</c>.</summary>
    public SharedDevicePolicy SharedDevice { get; set; } = SharedDevicePolicy.WithholdBonus;
}
