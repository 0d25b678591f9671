using Apptork.Root.Platform.Configuration;

namespace Apptork.Root.Features.Fraud;

/// <summary>
/// Reads the shipped disposable-domain list on a pool thread as an API process starts (a few tens of milliseconds, more before the
/// code is compiled): neither the start-up nor the first sign-in waits for it, unless that sign-in comes first.
/// </summary>
internal sealed class DisposableEmailDomainsWarmUp(RuntimeShape shape) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (shape.Role.ServesApi())
        {
            _ = Task.Run(() => DisposableEmailDomains.Shipped, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
