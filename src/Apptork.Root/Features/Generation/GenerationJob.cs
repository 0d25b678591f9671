using System.Data.Common;
using System.Linq.Expressions;
using System.Text;
using Apptork.Root.Features.Files;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>
/// Runs one generation. Idempotent (a job may be delivered twice): a run first claims the generation with a conditional UPDATE, so a
/// duplicate delivery of the job, or the run of another worker, does nothing while one is under way; a run whose worker
/// died is claimed again once it is stale, and one whose worker stops gracefully hands the generation back at once.
/// Results are stored under keys derived from the generation, so a repeated run overwrites rather than adds; the end,
/// success or final failure, is written with its charge, release or refund only while this run's claim holds
/// (<see cref="GenerationOutcomes"/>). Retries are scheduled here, with the settings' backoff, not by Hangfire.
/// </summary>
public sealed partial class GenerationJob(
    RootDbContext db, IGenerationProvider provider, IGenerationDeltas deltas, IFileStorage storage, GenerationOutcomes outcomes, IBackgroundJobClient jobs,
    IOptions<GenerationOptions> options, TimeProvider time, ILogger<GenerationJob> logger)
{
    private const int ResultWriteAttempts = 3;

    /// <summary>The job's call for one generation, as every enqueue and schedule of it passes it to Hangfire.</summary>
    public static Expression<Func<GenerationJob, Task>> For(Guid generationId) => job => job.RunAsync(generationId, CancellationToken.None);

    /// <remarks>
    /// The provider's failures are retried here; what escapes is the infrastructure failing (the database or the job
    /// storage refusing the claim, the release, the retry's enqueue, the result), which Hangfire retries soon: the claim
    /// makes a repeated run safe, and without it a generation released but never enqueued again would wait for the
    /// recovery sweep.
    /// </remarks>
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [2, 5, 15, 60, 300])]
    public async Task RunAsync(Guid generationId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var staleBefore = now - TimeSpan.FromSeconds(settings.StaleAfterSeconds);
        var claimed = await db.Generations
            .Where(generation => generation.Id == generationId
                && (generation.Status == GenerationStatus.Queued || (generation.Status == GenerationStatus.Running && generation.UpdatedAt < staleBefore)))
            .ExecuteUpdateAsync(set => set
                .SetProperty(generation => generation.Status, GenerationStatus.Running)
                .SetProperty(generation => generation.Attempts, generation => generation.Attempts + 1)
                .SetProperty(generation => generation.UpdatedAt, now), cancellationToken);
        if (claimed == 0)
        {
            await CheckAgainIfRunningAsync(generationId, staleBefore, cancellationToken);
            return;
        }

        RootMetrics.GenerationEntered("running");
        await deltas.AnnounceStatusAsync(generationId);

        var run = await db.Generations.AsNoTracking().SingleAsync(generation => generation.Id == generationId, cancellationToken);
        (StreamedText? Text, Guid? FileId) result;
        try
        {
            // Only the provider's call gives way to a stopping worker: once its answer is in hand, storing it is quicker
            // than another worker asking the provider again.
            result = run.Type == GenerationType.Text
                ? (await StreamTextAsync(run, cancellationToken), null)
                : (null, await StoreImageAsync(run, await provider.GenerateImageAsync(run.Prompt, run.ImageSize, cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The worker is stopping: Hangfire puts the job back in the queue when this throws, and another worker claims
            // the generation at once, which it could not before it went stale if it were left running.
            if (await HandBackAsync(run) == 1)
            {
                LogHandedBack(logger, run.Id);
                RootMetrics.GenerationEntered("queued");
                await deltas.AnnounceStatusAsync(run.Id);
            }

            throw;
        }
        catch (TransientGenerationException exception) when (run.Attempts < settings.MaxAttempts)
        {
            var delay = TimeSpan.FromSeconds(settings.RetryDelaySeconds * Math.Pow(2, run.Attempts - 1));
            LogRetry(logger, run.Id, run.Attempts, delay.TotalSeconds, exception.Message);
            if (await ReleaseAsync(run, exception.Message, cancellationToken) == 1)
            {
                RootMetrics.GenerationEntered("queued");
                await deltas.AnnounceStatusAsync(run.Id);
            }

            if (delay > TimeSpan.Zero)
            {
                jobs.Schedule(For(run.Id), delay);
            }
            else
            {
                jobs.Enqueue(For(run.Id));
            }

            return;
        }
        catch (Exception exception)
        {
            LogFailed(logger, run.Id, run.Attempts, exception.Message);
            if (await outcomes.FailAsync(run, StillClaimedBy(run), exception.Message))
            {
                RootMetrics.GenerationEntered("failed");
                await deltas.AnnounceStatusAsync(run.Id);
            }

            return;
        }

        await FinishAsync(run, result.Text, result.FileId);
    }

    /// <summary>
    /// Writes the result, trying again after a short pause when the database fails: a blip between the provider's answer
    /// and its write would otherwise cost a second provider call. The write is conditional on this run's claim, so
    /// repeating it is safe; a longer outage escapes to Hangfire's retry.
    /// </summary>
    private async Task FinishAsync(Generation run, StreamedText? text, Guid? fileId)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await outcomes.SucceedAsync(run, StillClaimedBy(run), text?.Text, text?.Usage, fileId))
                {
                    RootMetrics.GenerationEntered("succeeded");
                    await deltas.AnnounceStatusAsync(run.Id);
                }

                return;
            }
            catch (DbException exception) when (attempt < ResultWriteAttempts)
            {
                LogResultWriteRetry(logger, run.Id, attempt, exception.Message);
                await Task.Delay(TimeSpan.FromSeconds(attempt), time);
            }
        }
    }

    /// <summary>
    /// Another run holds the generation (a duplicate delivery), or held it and died (this job was taken over from a
    /// killed worker): which one shows only once the claim is stale, so look again then rather than end this job.
    /// </summary>
    private async Task CheckAgainIfRunningAsync(Guid generationId, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        var running = await db.Generations.Where(generation => generation.Id == generationId && generation.Status == GenerationStatus.Running)
            .Select(generation => (DateTimeOffset?)generation.UpdatedAt).SingleOrDefaultAsync(cancellationToken);
        if (running is { } updatedAt)
        {
            jobs.Schedule(For(generationId), updatedAt - staleBefore + TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The image as a file of the user's, under the generation's own key and id, so a repeated run replaces it. Not cancelled: the answer is paid for.</summary>
    private async Task<Guid> StoreImageAsync(Generation run, ImageOutput image)
    {
        var fileId = GenerationFiles.FileIdOf(run);
        var key = StoredFile.KeyFor(run.UserId, fileId);
        using (var content = new MemoryStream(image.Bytes))
        {
            await storage.PutAsync(key, content, image.ContentType, CancellationToken.None);
        }

        if (!await db.Files.AnyAsync(file => file.Id == fileId))
        {
            var now = time.GetUtcNow();
            db.Files.Add(new StoredFile
            {
                Id = fileId, UserId = run.UserId, Filename = $"generation-{run.Id}{GenerationFiles.ExtensionOf(image.ContentType)}", ContentType = image.ContentType,
                Size = image.Bytes.Length, Status = StoredFileStatus.Ready, StorageKey = key, CreatedAt = now, CompletedAt = now,
            });
            await db.SaveChangesAsync();
        }

        return fileId;
    }

    /// <summary>Back to queued, this attempt uncounted: a stopping worker is not the provider failing.</summary>
    private Task<int> HandBackAsync(Generation run)
    {
        var now = time.GetUtcNow();
        return db.Generations.Where(generation => generation.Id == run.Id && generation.Status == GenerationStatus.Running && generation.Attempts == run.Attempts)
            .ExecuteUpdateAsync(set => set
                .SetProperty(generation => generation.Status, GenerationStatus.Queued)
                .SetProperty(generation => generation.Attempts, run.Attempts - 1)
                .SetProperty(generation => generation.UpdatedAt, now), CancellationToken.None);
    }

    private Task<int> ReleaseAsync(Generation run, string error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Generations.Where(generation => generation.Id == run.Id && generation.Status == GenerationStatus.Running && generation.Attempts == run.Attempts)
            .ExecuteUpdateAsync(set => set
                .SetProperty(generation => generation.Status, GenerationStatus.Queued)
                .SetProperty(generation => generation.Error, GenerationOutcomes.Truncate(error))
                .SetProperty(generation => generation.UpdatedAt, now), CancellationToken.None);
    }

    /// <summary>
    /// The answer, each piece published to the generation's followers as it arrives, whole once the provider is done: the
    /// stored text is exactly the pieces this run published, in order.
    /// </summary>
    private async Task<StreamedText> StreamTextAsync(Generation run, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var index = 0;
        var usage = new TokenUsage(null, null);
        await foreach (var update in provider.StreamTextAsync(run.Prompt, run.MaxOutputTokens, cancellationToken))
        {
            if (update.Text is { } piece)
            {
                await deltas.AppendAsync(run.Id, index++, piece);
                text.Append(piece);
            }

            usage = update.Usage ?? usage;
        }

        var whole = text.ToString();
        return string.IsNullOrWhiteSpace(whole)
            ? throw new TransientGenerationException("The provider answered no text.")
            : new StreamedText(whole, usage);
    }

    /// <summary>A text answer whole, and the tokens the provider counted for it.</summary>
    private sealed record StreamedText(string Text, TokenUsage Usage);

    /// <summary>This run's claim still holds: the generation running, on this attempt.</summary>
    private static Expression<Func<Generation, bool>> StillClaimedBy(Generation run) =>
        generation => generation.Status == GenerationStatus.Running && generation.Attempts == run.Attempts;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId}'s result could not be written (try {Try}), writing it again: {Error}")]
    private static partial void LogResultWriteRetry(ILogger logger, Guid generationId, int @try, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} handed back: the worker is stopping, another one takes it over")]
    private static partial void LogHandedBack(ILogger logger, Guid generationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId} attempt {Attempt} failed, retrying in {DelaySeconds} s: {Error}")]
    private static partial void LogRetry(ILogger logger, Guid generationId, int attempt, double delaySeconds, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId} failed for good after {Attempts} attempt(s), cost refunded or hold released: {Error}")]
    private static partial void LogFailed(ILogger logger, Guid generationId, int attempts, string error);
}

internal static class GenerationFiles
{
    /// <summary>A file id derived from the generation, so every run of it writes the same file.</summary>
    public static Guid FileIdOf(Generation generation) =>
        new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{generation.Reference}/{generation.UserId:N}"))[..16]);

    public static string ExtensionOf(string contentType) => contentType switch
    {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/webp" => ".webp",
        _ => string.Empty,
    };
}
