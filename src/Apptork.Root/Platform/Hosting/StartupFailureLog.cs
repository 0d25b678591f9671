namespace Apptork.Root.Platform.Hosting;

/// <summary>
/// The generic host logs a failure to start, stack trace and all, and then rethrows it. The rethrown exception is
/// reported anyway (as a one-sentence refusal, or by the runtime), so while starting that log line only adds a second,
/// noisier copy; it is silenced for that window alone, leaving the host's errors while running untouched.
/// </summary>
public static class StartupFailureLog
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private static volatile bool silenced;

    /// <summary>Adds the silencing to every configured filter rule, so the configured levels still apply as written.</summary>
    public static IServiceCollection AddStartupFailureLogFilter(this IServiceCollection services) =>
        services.PostConfigure<LoggerFilterOptions>(options =>
        {
            var configured = options.Rules.ToList();
            options.Rules.Clear();
            // First, so any configured rule for a category outranks it; it covers the categories none names.
            options.Rules.Add(new LoggerFilterRule(null, null, options.MinLevel, (_, category, level) => Keeps(category, level)));
            foreach (var rule in configured)
            {
                options.Rules.Add(new LoggerFilterRule(
                    rule.ProviderName,
                    rule.CategoryName,
                    rule.LogLevel,
                    (provider, category, level) => Keeps(category, level) && (rule.Filter?.Invoke(provider, category, level) ?? true)));
            }
        });

    public static IDisposable Silence()
    {
        silenced = true;
        return new Restore();
    }

    private static bool Keeps(string? category, LogLevel level) => !(silenced && level == LogLevel.Error && category == HostCategory);

    private sealed class Restore : IDisposable
    {
        public void Dispose() => silenced = false;
    }
}
