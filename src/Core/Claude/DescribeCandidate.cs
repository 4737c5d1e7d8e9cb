using DbFirst.Files;

namespace DbFirst.Claude;

/// <summary>An image a describe run considers.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Path">Its file.</param>
/// <param name="ContentSha256">The image's content hash when it was selected: what is sent, and what a result is stored against.</param>
/// <param name="NeedsDescription">False when it already has a description by the current model.</param>
/// <param name="ByteSize">The file's length at ingest.</param>
/// <param name="ViaSymlink">Ingest met the path as a symbolic link.</param>
internal sealed record DescribeCandidate(long Id, string Path, byte[]? ContentSha256, bool NeedsDescription, long? ByteSize = null, bool ViaSymlink = false)
{
    /// <summary>The file as ingest recorded it, so the bytes sent are those the stored hash stands for.</summary>
    public IngestedFile File => new(Path, ByteSize, ContentSha256, ViaSymlink);
}
