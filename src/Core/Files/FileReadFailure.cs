namespace DbFirst.Files;

/// <summary>Why an ingested file was not read, as <see cref="FileReadException.Failure"/> says.</summary>
internal enum FileReadFailure
{
    /// <summary>Gone, unreadable, an I/O error or a timeout: worth trying again later (a mount may be offline).</summary>
    Transient,

    /// <summary>Not a regular file, a link swapped in, or over the size cap: trying again cannot help.</summary>
    Permanent,

    /// <summary>A regular file, but not the one ingested (another size or hash): ingest must look at it again.</summary>
    Changed,
}
