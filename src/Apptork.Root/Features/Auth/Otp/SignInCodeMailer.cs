using System.Globalization;

namespace Apptork.Root.Features.Auth.Otp;

/// <summary>Sends the mails of email sign-in without making the request wait for them.</summary>
public sealed partial class SignInCodeMailer(ILogger<SignInCodeMailer> logger)
{
    public void SendCode(string email, string code, int validMinutes, CultureInfo culture) =>
        LogCode(logger, email, code, validMinutes, culture.Name);

    public void SendLockNotice(string email, DateTimeOffset lockedUntil, CultureInfo culture) =>
        LogLock(logger, email, lockedUntil, culture.Name);

    public void SendEmailChangedNotice(string previousEmail, string newEmail, CultureInfo culture) =>
        LogEmailChanged(logger, previousEmail, newEmail, culture.Name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Email changed notice to {PreviousEmail}: now {NewEmail} ({Culture})")]
    private static partial void LogEmailChanged(ILogger logger, string previousEmail, string newEmail, string culture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-in code for {Email}: {Code} (valid {Minutes} minutes, {Culture})")]
    private static partial void LogCode(ILogger logger, string email, string code, int minutes, string culture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-in by code locked for {Email} until {LockedUntil} ({Culture})")]
    private static partial void LogLock(ILogger logger, string email, DateTimeOffset lockedUntil, string culture);
}
