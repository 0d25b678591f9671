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

    /// <summary>
    /// Wrong codes allowed per email address from all clients together, across all its challenges within
    /// <see cref="BudgetWindowHours"/>: the ceiling on guesses, reached only by many clients, since each has its own
    /// smaller budget (<c>Throttling__Rates__otp__failed_codes</c>). Reaching it locks the address and mails its owner.
    /// </summary>
    [Range(1, 1000)]
    public int FailedVerifyBudget { get; set; } = 30;

    [Range(1, 168)]
    public int BudgetWindowHours { get; set; } = 24;
}
