namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// What the embedded shape keeps on disk (its SQLite databases, which hold every account and the Data Protection key
/// ring unencrypted; its generated secrets; uploaded files) is created readable by the process's own user only:
/// folders 0700, files 0600, whatever the umask would have given. Folders and files that already exist keep their
/// mode, which is then the operator's choice.
/// </summary>
public static class PrivateFiles
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates the folder, and any missing parent, private: one at a time, since <c>Directory.CreateDirectory</c> gives
    /// its mode to the last folder only and the umask's to the parents it makes.
    /// </summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new Stack<string>();
        for (var folder = Path.GetFullPath(path); !Directory.Exists(folder); folder = Path.GetDirectoryName(folder)!)
        {
            missing.Push(folder);
        }

        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }
    }

    /// <summary>
    /// Creates an empty private file unless there is one, so that SQLite opens it instead of creating it with the
    /// umask's mode (an empty file is an empty database); SQLite gives the <c>-wal</c> and <c>-shm</c> files it makes
    /// later the database file's mode.
    /// </summary>
    public static void CreateEmptyFile(string path)
    {
        CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        try
        {
            new FileStream(path, options).Dispose();
        }
        catch (IOException) when (File.Exists(path))
        {
            // Already there, or made by a concurrent start: either is the database to open.
        }
    }

    /// <summary>
    /// The text of a generated secret kept in a file (a key, a secret path): created once, readable by this user only,
    /// written beside and then moved into place, so a concurrent first start keeps whichever was written first.
    /// </summary>
    public static string ReadOrCreateText(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path);
        }

        CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, create());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, OwnerOnlyFile);
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
        }

        return File.ReadAllText(path);
    }
}
