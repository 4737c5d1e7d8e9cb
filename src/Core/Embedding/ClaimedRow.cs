using DbFirst.Files;

namespace DbFirst.Embedding;

/// <summary>A row claimed for embedding.</summary>
/// <param name="Id">The row's id.</param>
/// <param name="File">The image file as ingested (path, size, hash), which the read must find again.</param>
internal sealed record ClaimedRow(long Id, IngestedFile File)
{
    /// <summary>The image file.</summary>
    public string Path => File.Path;
}
