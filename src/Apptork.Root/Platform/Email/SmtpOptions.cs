using System.ComponentModel.DataAnnotations;

namespace Apptork.Root.Platform.Email;

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
