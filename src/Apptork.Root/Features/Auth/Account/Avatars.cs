using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Files;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Auth.Account;

/// <summary>The avatar: one of the user's own image files, shown by a short-lived signed URL.</summary>
public static class Avatars
{
    public const string Attr = "avatar_file_id";

    /// <summary>The user's view with a signed link to the avatar; none when the file is gone or not uploaded yet.</summary>
    public static async Task<UserView> ViewAsync(User user, RootDbContext db, IFileStorage storage, CancellationToken cancellationToken)
    {
        if (user.AvatarFileId is not { } fileId)
        {
            return UserView.From(user);
        }

        var file = await db.Files.AsNoTracking()
            .Where(candidate => candidate.Id == fileId && candidate.UserId == user.Id && candidate.Status == StoredFileStatus.Ready)
            .Select(candidate => new { candidate.StorageKey, candidate.Filename, candidate.ContentType })
            .SingleOrDefaultAsync(cancellationToken);
        return UserView.From(user, file is null ? null : (await storage.SignDownloadAsync(file.StorageKey, file.Filename, file.ContentType, cancellationToken)).Url);
    }

    /// <summary>Refuses a file that may not be the user's avatar: unknown or another user's (alike), not uploaded yet, not an image.</summary>
    public static async Task EnsureUsableAsync(Guid userId, Guid fileId, RootDbContext db, CancellationToken cancellationToken)
    {
        var file = await db.Files.AsNoTracking()
            .Where(candidate => candidate.Id == fileId && candidate.UserId == userId)
            .Select(candidate => new { candidate.Status, candidate.ContentType })
            .SingleOrDefaultAsync(cancellationToken)
            ?? throw ErrorCatalog.FileNotFound.ToException(Attr);
        if (!file.ContentType.StartsWith("image/", StringComparison.Ordinal))
        {
            throw ErrorCatalog.NotAnImage.ToException(Attr);
        }

        if (file.Status != StoredFileStatus.Ready)
        {
            throw ErrorCatalog.UploadIncomplete.ToException(Attr);
        }
    }
}
