namespace DbFirst.Files;

/// <summary>An ingested file was refused or could not be read; <see cref="Exception.Message"/> is one line naming the path.</summary>
internal sealed class FileReadException : IOException
{
    public FileReadException(string path, string reason, FileReadFailure failure, Exception? inner = null)
        : base($"{reason}: {path}", inner)
    {
        Path = path;
        Reason = reason;
        Failure = failure;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Why, without the path (what <c>embed_error</c> stores).</summary>
    public string Reason { get; }

    /// <summary>Whether retrying can help.</summary>
    public FileReadFailure Failure { get; }
}
