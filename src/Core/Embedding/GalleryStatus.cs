namespace DbFirst.Embedding;

/// <summary>What <c>dbfirst status</c> shows: the gallery's embedding state at a glance.</summary>
/// <param name="Rows">Rows in <c>gallery.image_gallery</c>.</param>
/// <param name="Embedded">Rows with an embedding.</param>
/// <param name="EmbeddedWithOtherModel">Embedded rows whose model is not the configured one (<c>embed --reembed</c> redoes them).</param>
/// <param name="Pending">Rows a run would still try (including ones waiting to retry).</param>
/// <param name="Failed">Rows given up on: a permanent error, or out of attempts.</param>
/// <param name="Failures">Failed rows grouped by reason, most frequent first.</param>
/// <param name="Models">Embedded rows per model.</param>
/// <param name="Indexes">Vector indexes on the embedding column.</param>
internal sealed record GalleryStatus(
    long Rows,
    long Embedded,
    long EmbeddedWithOtherModel,
    long Pending,
    long Failed,
    IReadOnlyList<FailureGroup> Failures,
    IReadOnlyList<ModelCount> Models,
    IReadOnlyList<VectorIndexInfo> Indexes);

/// <summary>Failed rows sharing one reason.</summary>
internal sealed record FailureGroup(string Reason, bool Permanent, long Rows);

/// <summary>Embedded rows of one model.</summary>
internal sealed record ModelCount(string Model, long Rows);

/// <summary>A vector index: name, access method (hnsw, ivfflat) and size on disk.</summary>
internal sealed record VectorIndexInfo(string Name, string Type, long SizeBytes, string Size, bool Valid);
