using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Apptork.Root.Platform.Configuration;

/// <summary><c>Cors__AllowedOrigins__0=https://app.example.com</c>: browsers may call the API only from these (none by default).</summary>
public sealed class CorsSettings
{
    public const string Section = "Cors";

    public IList<string> AllowedOrigins { get; } = [];

    public CorsPolicy ToPolicy() =>
        new CorsPolicyBuilder()
            .WithOrigins([.. AllowedOrigins])
            .AllowAnyHeader()
            .AllowAnyMethod()
            .WithExposedHeaders("X-Correlation-Id", "Retry-After", "RateLimit", "RateLimit-Policy", "Content-Language")
            .Build();
}
