using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Files;

/// <summary>
/// Every 10 minutes, removes uploads signed but never completed whose URL has expired, rows and objects: they count
/// against their user's quota and would otherwise stay forever. Each row goes first, on the condition that it is still
/// pending, so a completion that wins the race keeps its file; its objects follow, with a job to retry a failed removal.
/// </summary>
public sealed partial class AbandonedUploadCleanupJob(
    RootDbContext db, FileDeletion deletion, IOptions<StorageOptions> options, TimeProvider time, ILogger<AbandonedUploadCleanupJob> logger) : IRecurringJob
{
    private const int BatchSize = 200;

    /// <summary>Beyond the URL's expiry: a PUT that started just before it may still be arriving.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    public string Id => "files-abandoned-uploads";

    public string Schedule => "*/10 * * * *";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.SignedUrlSeconds) - Grace;
        var removed = 0;
        List<StoredFile> batch;
        do
        {
            batch = await db.Files.AsNoTracking()
                .Where(file => file.Status == StoredFileStatus.Pending && file.CreatedAt < cutoff)
                .OrderBy(file => file.CreatedAt).Take(BatchSize).ToListAsync(cancellationToken);
            foreach (var file in batch)
            {
                if (await db.Files.Where(candidate => candidate.Id == file.Id && candidate.Status == StoredFileStatus.Pending).ExecuteDeleteAsync(cancellationToken) == 0)
                {
                    continue;
                }

                removed++;
                await deletion.RemoveNowAsync(file, file.UploadKey);
                // Where a completion that stopped between moving the bytes and saving the row left them.
                await deletion.RemoveNowAsync(file, file.StorageKey);
            }
        }
        while (batch.Count == BatchSize);

        LogRemoved(logger, removed);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Abandoned uploads: {Removed} expired pending uploads removed")]
    private static partial void LogRemoved(ILogger logger, int removed);
}
