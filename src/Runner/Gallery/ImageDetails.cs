using DbFirst.Files;

namespace DbFirst.Runner.Gallery;

/// <summary>What the gallery page shows about one image; every text field is untrusted (file names, Claude's words).</summary>
internal sealed record ImageDetails(
    long Id,
    string Path,
    byte[]? ContentSha256,
    long? ByteSize,
    int? Width,
    int? Height,
    string? MediaType,
    DateTimeOffset? TakenAt,
    string? EmbeddingModel,
    DateTimeOffset? EmbeddedAt,
    string? EmbedError,
    bool EmbedErrorPermanent,
    int EmbedAttempts,
    string? Description,
    string? DescriptionModel,
    DateTimeOffset? DescribeRequestedAt,
    string? DescribeError,
    bool ViaSymlink = false)
{
    public bool IsEmbedded => EmbeddingModel is not null;

    /// <summary>The file as ingest recorded it: what the thumbnail reader must find again.</summary>
    public IngestedFile File => new(Path, ByteSize, ContentSha256, ViaSymlink);
}
