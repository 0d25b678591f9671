using System.ComponentModel.DataAnnotations;

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

public sealed class SmtpOptions
{
    public const int DefaultPort = 587;

    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = DefaultPort;

    /// <summary>When set, the client authenticates; without it, it sends as the server allows anonymous clients to.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Implicit TLS on port 465, required STARTTLS on any other port; false sends in plain text (a relay on the same host).</summary>
    public bool UseTls { get; set; } = true;

    /// <summary>Per network operation (connect, each command), so a stalled server cannot hold a message for long.</summary>
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 30;
}
