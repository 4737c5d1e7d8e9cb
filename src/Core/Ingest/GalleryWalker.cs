namespace DbFirst.Ingest;

/// <summary>
/// Walks folders depth-first, one directory listing at a time, so memory grows with the number of directories
/// waiting to be read, never with the number of files. Links are left alone unless <c>followSymlinks</c>; when
/// they are followed, each directory is entered once, by its canonical path, which makes loops harmless.
/// </summary>
internal sealed class GalleryWalker
{
    private static readonly EnumerationOptions ListingOptions = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    private readonly IReadOnlyList<string> _roots;
    private readonly bool _followSymlinks;

    /// <param name="roots">Absolute, normalised paths of directories or files (see <see cref="IngestRoots"/>).</param>
    /// <param name="followSymlinks">Whether links to files and directories are followed.</param>
    public GalleryWalker(IReadOnlyList<string> roots, bool followSymlinks)
    {
        _roots = roots;
        _followSymlinks = followSymlinks;
    }

    public IEnumerable<WalkItem> Walk(CancellationToken cancellationToken = default)
    {
        var visited = _followSymlinks ? new HashSet<string>(StringComparer.Ordinal) : null;
        var pending = new Stack<string>();
        foreach (var root in _roots)
        {
            if (File.Exists(root))
            {
                var file = new FileInfo(root);
                yield return new WalkItem(root, file.Length, ViaSymlink: file.LinkTarget is not null);
                continue;
            }

            // A root named on the command line is entered even when it is itself a link, as find -H does.
            if (visited is null || visited.Add(CanonicalPath.TryResolve(root) ?? root))
            {
                pending.Push(root);
            }

            while (pending.TryPop(out var directory))
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var item in List(directory, pending, visited))
                {
                    yield return item;
                }
            }
        }
    }

    private IEnumerable<WalkItem> List(string directory, Stack<string> pending, HashSet<string>? visited)
    {
        IEnumerator<FileSystemInfo> entries;
        WalkItem? openFailure = null;
        try
        {
            entries = new DirectoryInfo(directory).EnumerateFileSystemInfos("*", ListingOptions).GetEnumerator();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            entries = Enumerable.Empty<FileSystemInfo>().GetEnumerator();
            openFailure = UnreadableDirectory(directory, exception);
        }

        if (openFailure is not null)
        {
            yield return openFailure;
        }

        using (entries)
        {
            while (true)
            {
                FileSystemInfo entry;
                WalkItem? failure = null;
                try
                {
                    if (!entries.MoveNext())
                    {
                        break;
                    }

                    entry = entries.Current;
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // A listing that breaks part-way leaves the rest of the directory unseen; say so and move on.
                    failure = UnreadableDirectory(directory, exception);
                    entry = null!;
                }

                if (failure is not null)
                {
                    yield return failure;
                    break;
                }

                var item = Classify(entry, pending, visited);
                if (item is not null)
                {
                    yield return item;
                }
            }
        }
    }

    private WalkItem? Classify(FileSystemInfo entry, Stack<string> pending, HashSet<string>? visited)
    {
        var path = entry.FullName;
        var isLink = entry.Attributes.HasFlag(FileAttributes.ReparsePoint);
        if (isLink && visited is null)
        {
            // Unless it certainly points at a file, nothing under this path was looked at: a dangling link may stand
            // for a folder whose target is offline, and its rows must not be reported missing.
            var pointsAtFile = File.Exists(path) && CanonicalPath.TryResolve(path) is not null;
            return new WalkItem(path, 0, new ScannedEntry(path, ScanOutcome.SymlinkSkipped, IsDirectory: !pointsAtFile));
        }

        if (entry.Attributes.HasFlag(FileAttributes.Directory) || (isLink && Directory.Exists(path)))
        {
            if (visited is null)
            {
                pending.Push(path);
                return null;
            }

            var canonical = CanonicalPath.TryResolve(path);
            if (canonical is null)
            {
                return new WalkItem(path, 0, new ScannedEntry(path, ScanOutcome.Failed, Error: "cannot resolve directory path", IsDirectory: true));
            }

            // Already entered by another path (a loop, or two links to one folder): its files are registered once.
            if (visited.Add(canonical))
            {
                pending.Push(path);
            }

            return null;
        }

        if (isLink)
        {
            // File.Exists answers true for a dangling link; resolving it is the reliable test.
            if (CanonicalPath.TryResolve(path) is null)
            {
                return new WalkItem(path, 0, new ScannedEntry(path, ScanOutcome.Failed, Error: "broken symbolic link"));
            }

            try
            {
                return new WalkItem(path, new FileInfo(path).Length, ViaSymlink: true);
            }
            catch (IOException exception)
            {
                return new WalkItem(path, 0, new ScannedEntry(path, ScanOutcome.Failed, Error: exception.Message));
            }
        }

        return new WalkItem(path, ((FileInfo)entry).Length);
    }

    private static WalkItem UnreadableDirectory(string directory, Exception exception) =>
        new(directory, 0, new ScannedEntry(directory, ScanOutcome.Failed, Error: $"cannot list directory: {exception.Message}", IsDirectory: true));
}
