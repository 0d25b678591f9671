using System.Linq.Expressions;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Files;

/// <summary>
/// Deletes a user's file: the row first, with what points at it (an avatar, a generation's result), in one transaction;
/// then the object in storage. The row goes first so that no answer ever offers a file whose bytes are gone; an object
/// whose removal then fails is handed to <see cref="StoredObjectDeletionJob"/>, never forgotten.
/// </summary>
public sealed partial class FileDeletion(
    RootDbContext db, IFileStorage storage, JobEnqueuer jobs, IOptions<StorageOptions> options, ILogger<FileDeletion> logger)
{
    /// <summary>False when the user has no such file (never had, another user's, or already deleted).</summary>
    public async Task<bool> DeleteAsync(Guid userId, Guid fileId, CancellationToken cancellationToken)
    {
        StoredFile? file;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            file = await db.Files.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == fileId && candidate.UserId == userId, cancellationToken);
            // The conditional delete, not the read, decides: of two concurrent deletes only one removes the row, and the object.
            if (file is null || await db.Files.Where(candidate => candidate.Id == fileId && candidate.UserId == userId).ExecuteDeleteAsync(cancellationToken) == 0)
            {
                return false;
            }

            await db.Users.Where(user => user.AvatarFileId == fileId)
                .ExecuteUpdateAsync(set => set.SetProperty(user => user.AvatarFileId, (Guid?)null), cancellationToken);
            await db.Generations.Where(generation => generation.ResultFileId == fileId)
                .ExecuteUpdateAsync(set => set.SetProperty(generation => generation.ResultFileId, (Guid?)null), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await RemoveObjectAsync(file);
        return true;
    }

    /// <summary>
    /// Queues the removal of whatever is PUT to the upload URL until it expires: after completion, or once the row is
    /// gone, such bytes have no row to account for them.
    /// </summary>
    public Task ScheduleUploadRemovalAsync(StoredFile file) =>
        QueueAsync(file, file.UploadKey, TimeSpan.FromSeconds(options.Value.SignedUrlSeconds + 60));

    private async Task RemoveObjectAsync(StoredFile file)
    {
        await RemoveNowAsync(file, file.StorageKey);
        if (file.Status == StoredFileStatus.Pending)
        {
            await RemoveNowAsync(file, file.UploadKey);
            await ScheduleUploadRemovalAsync(file);
        }
    }

    /// <summary>Once the row is gone, with a job to retry it when storage refuses.</summary>
    internal async Task RemoveNowAsync(StoredFile file, string key)
    {
        try
        {
            // Not the request's token: once the row is gone, a client hanging up must not leave the object behind.
            await storage.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception exception)
        {
            LogRemovalFailed(logger, exception, file.Id, key);
            await QueueAsync(file, key, TimeSpan.Zero);
        }
    }

    private async Task QueueAsync(StoredFile file, string key, TimeSpan delay)
    {
        var call = StoredObjectDeletionJob.For(key);
        try
        {
            await (delay == TimeSpan.Zero ? jobs.EnqueueAsync(call) : jobs.ScheduleAsync(call, delay));
        }
        catch (Exception exception)
        {
            LogQueueFailed(logger, exception, key, file.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "File {FileId} was deleted but its object {StorageKey} could not be removed from storage; a job will retry")]
    private static partial void LogRemovalFailed(ILogger logger, Exception exception, Guid fileId, string storageKey);

    [LoggerMessage(Level = LogLevel.Error, Message = "The removal of object {StorageKey} of file {FileId} could not be queued: remove the object by hand")]
    private static partial void LogQueueFailed(ILogger logger, Exception exception, string storageKey, Guid fileId);
}

/// <summary>
/// Removes an object whose file row is already gone. Removing an object that is not there succeeds (on the local folder
/// and on S3), so a repeated run is harmless. Hangfire retries a failing run with growing delays; after the last, the job
/// stays among Hangfire's failed jobs, with the key, for an operator.
/// </summary>
public sealed class StoredObjectDeletionJob(IFileStorage storage)
{
    public static Expression<Func<StoredObjectDeletionJob, Task>> For(string storageKey) => job => job.DeleteAsync(storageKey, CancellationToken.None);

    [AutomaticRetry(Attempts = 10, DelaysInSeconds = [10, 30, 60, 300, 900, 1800, 3600, 3600, 3600, 3600])]
    public Task DeleteAsync(string storageKey, CancellationToken cancellationToken) => storage.DeleteAsync(storageKey, cancellationToken);
}
