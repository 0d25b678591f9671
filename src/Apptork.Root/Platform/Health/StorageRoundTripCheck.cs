using Apptork.Root.Platform.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apptork.Root.Platform.Health;

/// <summary>
/// Writes a small object to the file storage, reads its size back and deletes it, through <see cref="IFileStorage"/>
/// so S3 and the local folder are tested the way files use them. Written here: no S3 check is served to this build as a
/// package, and none would cover the local folder.
/// </summary>
public sealed class StorageRoundTripCheck(IFileStorage storage) : IHealthCheck
{
    private static readonly byte[] Content = "apptork-root health probe"u8.ToArray();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var key = $"health-probes/{Guid.NewGuid():N}";
        try
        {
            return await RoundTripAsync(key, cancellationToken).WaitAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Only the kind of failure: the message may carry the bucket's host or a signed URL.
            return HealthCheckResult.Unhealthy($"file storage failed ({exception.GetType().Name})");
        }
    }

    private async Task<HealthCheckResult> RoundTripAsync(string key, CancellationToken cancellationToken)
    {
        using (var content = new MemoryStream(Content))
        {
            await storage.PutAsync(key, content, "text/plain", cancellationToken);
        }

        var stored = await storage.HeadAsync(key, cancellationToken);
        await storage.DeleteAsync(key, cancellationToken);
        return stored?.Size == Content.Length
            ? HealthCheckResult.Healthy("an object written, read back and deleted")
            : HealthCheckResult.Unhealthy("the object written was not read back");
    }
}
