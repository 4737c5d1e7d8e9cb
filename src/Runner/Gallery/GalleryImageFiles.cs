namespace DbFirst.Runner.Gallery;

/// <summary>
/// The one place the gallery page opens image files. Only paths read from <c>gallery.image_gallery</c> reach it
/// (never a request parameter), and it opens regular files only, up to a size cap.
/// </summary>
/// <remarks>Meant to become the shared safe opener for ingested files once it lands in the core library.</remarks>
internal static class GalleryImageFiles
{
    /// <summary>Largest file opened; ingest registers nothing larger that the decoder would accept anyway.</summary>
    public const long MaxBytes = 256L * 1024 * 1024;

    /// <summary>Reads the whole file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">Not a regular file, too large, or unreadable; the message says which.</exception>
    public static async Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || Directory.Exists(path) || (info.Exists && (info.Attributes & FileAttributes.ReparsePoint) != 0))
        {
            throw new IOException("not a regular file");
        }

        if (!info.Exists)
        {
            throw new FileNotFoundException("the file is gone", path);
        }

        // FIFOs and devices report length 0: refusing empty files before opening keeps a FIFO from blocking the open.
        if (info.Length == 0)
        {
            throw new IOException("the file is empty");
        }

        if (info.Length > MaxBytes)
        {
            throw new IOException($"the file is larger than {MaxBytes / (1024 * 1024)} MB");
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        if (stream.Length > MaxBytes)
        {
            throw new IOException($"the file is larger than {MaxBytes / (1024 * 1024)} MB");
        }

        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }
}
