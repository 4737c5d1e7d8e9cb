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
    string? DescribeError)
{
    public bool IsEmbedded => EmbeddingModel is not null;
}
