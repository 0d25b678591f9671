using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Files;

/// <summary>
/// Uploads by presigned URL, checked at completion; downloads by short-lived signed URL; listing and deleting. A user
/// reaches only their own files.
/// </summary>
public static class FileEndpoints
{
    public static RouteGroupBuilder MapFileEndpoints(this RouteGroupBuilder files)
    {
        files.WithTags("Files").RequireAuthorization();
        files.MapPost("/uploads", SignUploadAsync).Validate<UploadBody>()
            .ProducesErrors(ErrorCatalog.UnsupportedFileType, ErrorCatalog.FileTooLarge, ErrorCatalog.StorageQuotaExceeded)
            .WithName("files_uploads_create").WithSummary("Start an upload")
            .WithDescription("Signs an upload: PUT the bytes to upload_url with upload_headers, then POST /files/{id}/complete. "
                + "Pending uploads count against the storage quota until completed, deleted or expired.");
        files.MapPost("/{id:guid}/complete", CompleteAsync)
            .ProducesErrors(ErrorCatalog.NotFound, ErrorCatalog.UploadIncomplete, ErrorCatalog.UploadMismatch)
            .WithName("files_complete").WithSummary("Complete an upload")
            .WithDescription("Confirms an upload: the stored bytes must be of the declared size and content type.");
        files.MapGet("/{id:guid}", GetAsync)
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("files_get").WithSummary("Get a file")
            .WithDescription("A file's metadata and, once ready, a short-lived download URL.");
        files.MapGet(string.Empty, ListAsync)
            .ProducesErrors(ErrorCatalog.InvalidCursor)
            .WithName("files_list").WithSummary("List files")
            .WithDescription("The user's files, newest first, pending uploads included; download URLs are in single reads, not in lists.");
        files.MapDelete("/{id:guid}", DeleteAsync)
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("files_delete").WithSummary("Delete a file")
            .WithDescription("Deletes the file and its bytes; an avatar or a generation's result that was this file is cleared.");
        return files;
    }

    private static async Task<Created<UploadView>> SignUploadAsync(
        UploadBody body, HttpContext context, RootDbContext db, IFileStorage storage, IOptions<StorageOptions> options, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var contentType = body.ContentType!.Trim().ToLowerInvariant();
        if (!settings.ContentTypes.Contains(contentType, StringComparer.Ordinal))
        {
            throw ErrorCatalog.UnsupportedFileType.ToException("content_type");
        }

        if (body.Size > settings.MaxUploadBytes)
        {
            throw ErrorCatalog.FileTooLarge.ToException("size", new Dictionary<string, object?> { ["max_bytes"] = settings.MaxUploadBytes });
        }

        var userId = context.User.UserId();
        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var file = new StoredFile
        {
            Id = id, UserId = userId, Filename = body.Filename!.Trim(), ContentType = contentType, Size = body.Size!.Value,
            Status = StoredFileStatus.Pending, StorageKey = StoredFile.KeyFor(userId, id), CreatedAt = now,
        };
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // A write to the user's row first: concurrent signings for one user then wait for each other (a row lock on
            // PostgreSQL, the write lock on SQLite), so no two of them both fit under the quota by reading the same total.
            await db.Users.Where(user => user.Id == userId).ExecuteUpdateAsync(set => set.SetProperty(user => user.Role, user => user.Role), cancellationToken);
            var role = await db.Users.Where(user => user.Id == userId).Select(user => user.Role).SingleAsync(cancellationToken);
            // Pending uploads count at their declared size: a signed URL may be used until it expires.
            var used = await db.Files.Where(candidate => candidate.UserId == userId).SumAsync(candidate => (long?)candidate.Size, cancellationToken) ?? 0;
            var quota = settings.QuotaFor(role);
            if (used + file.Size > quota)
            {
                throw ErrorCatalog.StorageQuotaExceeded.ToException(
                    args: new Dictionary<string, object?> { ["quota_bytes"] = quota, ["used_bytes"] = used });
            }

            db.Files.Add(file);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var upload = await storage.SignUploadAsync(file.UploadKey, contentType, cancellationToken);
        return TypedResults.Created($"/api/v1/files/{id}", new UploadView(id, upload.Url, upload.Method, upload.Headers, upload.ExpiresAt, FileView.Of(file, null)));
    }

    private static async Task<Ok<FileView>> CompleteAsync(
        Guid id, HttpContext context, RootDbContext db, IFileStorage storage, FileDeletion deletion, TimeProvider time, CancellationToken cancellationToken)
    {
        var file = await FindAsync(id, context, db, cancellationToken);
        if (file.Status == StoredFileStatus.Pending)
        {
            // Moved away from the upload URL's key, then checked: what downloads serve is then exactly what was checked,
            // whatever is PUT to the URL meanwhile or afterwards.
            await storage.MoveAsync(file.UploadKey, file.StorageKey, cancellationToken);
            var stored = await storage.HeadAsync(file.StorageKey, cancellationToken) ?? throw ErrorCatalog.UploadIncomplete.ToException();
            if (stored.Size != file.Size || !string.Equals(stored.ContentType, file.ContentType, StringComparison.OrdinalIgnoreCase))
            {
                // Not what was signed for: removed, so the client can upload again to the same URL while it is valid.
                await storage.DeleteAsync(file.StorageKey, cancellationToken);
                throw ErrorCatalog.UploadMismatch.ToException(stored.Size != file.Size ? "size" : "content_type");
            }

            file.Status = StoredFileStatus.Ready;
            file.CompletedAt = time.GetUtcNow();
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // The row went meanwhile (the owner deleted it, or the clean-up took it as its URL expired): so do the
                // bytes just moved, which no row names any more.
                await storage.DeleteAsync(file.StorageKey, cancellationToken);
                throw ErrorCatalog.NotFound.ToException();
            }

            await deletion.ScheduleUploadRemovalAsync(file);
        }

        return TypedResults.Ok(FileView.Of(file, await storage.SignDownloadAsync(file.StorageKey, file.Filename, file.ContentType, cancellationToken)));
    }

    private static async Task<Ok<FileView>> GetAsync(Guid id, HttpContext context, RootDbContext db, IFileStorage storage, CancellationToken cancellationToken)
    {
        var file = await FindAsync(id, context, db, cancellationToken);
        var download = file.Status == StoredFileStatus.Ready ? await storage.SignDownloadAsync(file.StorageKey, file.Filename, file.ContentType, cancellationToken) : null;
        return TypedResults.Ok(FileView.Of(file, download));
    }

    private static async Task<Ok<CursorPage<FileView>>> ListAsync(PageRequest page, HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        return TypedResults.Ok(await db.Files.AsNoTracking().Where(file => file.UserId == userId).ToCursorPageAsync(
            page,
            file => file.CreatedAt,
            file => file.Id,
            file => new FileView(file.Id, file.Filename, file.ContentType, file.Size, file.Status, file.CreatedAt, null, null),
            cancellationToken));
    }

    /// <summary>Another user's file, like a missing or already deleted one, is 404: its existence is not told.</summary>
    private static async Task<NoContent> DeleteAsync(Guid id, HttpContext context, FileDeletion deletion, CancellationToken cancellationToken) =>
        await deletion.DeleteAsync(context.User.UserId(), id, cancellationToken) ? TypedResults.NoContent() : throw ErrorCatalog.NotFound.ToException();

    /// <summary>Another user's file is not found, exactly like a file that does not exist.</summary>
    private static async Task<StoredFile> FindAsync(Guid id, HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        return await db.Files.SingleOrDefaultAsync(file => file.Id == id && file.UserId == userId, cancellationToken)
            ?? throw ErrorCatalog.NotFound.ToException();
    }
}

public sealed record UploadBody(string? Filename, string? ContentType, long? Size);

public sealed class UploadBodyValidator : AbstractValidator<UploadBody>
{
    public UploadBodyValidator()
    {
        RuleFor(body => body.Filename).NotEmpty().MaximumLength(StoredFile.MaxFilenameLength).DisplayableText();
        RuleFor(body => body.ContentType).NotEmpty().MaximumLength(100);
        RuleFor(body => body.Size).NotNull().GreaterThanOrEqualTo(1);
    }
}

public sealed record FileView(
    Guid Id, string Filename, string ContentType, long Size, StoredFileStatus Status, DateTimeOffset CreatedAt, Uri? DownloadUrl, DateTimeOffset? DownloadExpiresAt)
{
    public static FileView Of(StoredFile file, SignedUrl? download) =>
        new(file.Id, file.Filename, file.ContentType, file.Size, file.Status, file.CreatedAt, download?.Url, download?.ExpiresAt);
}

public sealed record UploadView(Guid Id, Uri UploadUrl, string UploadMethod, IReadOnlyDictionary<string, string> UploadHeaders, DateTimeOffset ExpiresAt, FileView File);
