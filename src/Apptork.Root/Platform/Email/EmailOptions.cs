namespace Apptork.Root.Platform.Email;

public enum EmailProvider
{
    /// <summary>Writes each message to the log; the embedded shape only.</summary>
    Log,

    /// <summary>Sends through an SMTP server (<c>Email__Smtp__*</c>).</summary>
    Smtp,
}

/// <summary>
/// <c>Email__Provider</c>, <c>Email__From</c> and <c>Email__Smtp__*</c>. The display name of <see cref="From"/> is
/// also the app name the texts speak of, so an app built on this names itself in one setting.
/// </summary>
public sealed class EmailOptions
{
    public const string Section = "Email";
    public const string DefaultFrom = "Apptork Root <no-reply@localhost>";

    public EmailProvider Provider { get; set; } = EmailProvider.Log;

    public string From { get; set; } = DefaultFrom;

    public SmtpOptions Smtp { get; set; } = new();
}
