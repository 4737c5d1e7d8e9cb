namespace DbFirst.Ingest;

/// <summary>What became of one entry met by the walk.</summary>
internal enum ScanOutcome
{
    /// <summary>An image: registered, or unchanged.</summary>
    Image,

    /// <summary>A file that is not an image DbFirst reads (empty, text, another format, a device or pipe).</summary>
    Unsupported,

    /// <summary>A file that looks like an image but could not be read, or an entry the walk could not follow.</summary>
    Failed,

    /// <summary>A symbolic link left alone because links are not followed.</summary>
    SymlinkSkipped,
}
