namespace Apptork.Root.Platform.Observability;

/// <summary>The <c>Sentry__*</c> settings. Error tracking is off, with no SDK started, unless <see cref="Dsn"/> is set.</summary>
public sealed class ErrorTrackingOptions
{
    public const string Section = "Sentry";

    /// <summary>The project's DSN (<c>https://publickey@host/project</c>); unset turns error tracking off.</summary>
    public string? Dsn { get; set; }

    /// <summary>
    /// The environment events are filed under. Unset: the ASP.NET Core environment's name when it is not Production
    /// (<c>development</c>, <c>staging</c>), otherwise the runtime shape (<c>production</c> on PostgreSQL, <c>embedded</c>
    /// on SQLite), so a laptop running the published binary does not file its errors as production's.
    /// </summary>
    public string? Environment { get; set; }

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Dsn);
}
