namespace DbFirst.Imaging;

/// <summary>
/// An image that can never be decoded as it is: unknown or corrupt format, truncated data, or a header that
/// declares more pixels than allowed. Retrying does not help; I/O failures surface as <see cref="IOException"/> instead.
/// </summary>
internal sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string path, string reason, Exception? innerException = null)
        : base($"{path}: {reason}", innerException)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The file (or stream name) that failed.</summary>
    public string Path { get; }

    /// <summary>Why it failed, in words.</summary>
    public string Reason { get; }
}
