using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Features.Auth;

public sealed class OtpOptions
{
    [Range(1, 60)]
    public int LifetimeMinutes { get; set; } = 10;

    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    [Range(0, 3600)]
    public int ResendAfterSeconds { get; set; } = 60;

    /// <summary>Wrong codes allowed per email address across all its challenges within <see cref="BudgetWindowHours"/>.</summary>
    [Range(1, 1000)]
    public int FailedVerifyBudget { get; set; } = 10;

    [Range(1, 168)]
    public int BudgetWindowHours { get; set; } = 24;
}
