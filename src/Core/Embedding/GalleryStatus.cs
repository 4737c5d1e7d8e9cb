using DbFirst.Models;

namespace DbFirst.Embedding;

/// <summary>What <c>dbfirst status</c> shows: the gallery's embedding state at a glance.</summary>
/// <param name="Rows">Rows in <c>gallery.image_gallery</c>.</param>
/// <param name="Embedded">Rows the active model has embedded (the rows searches can return).</param>
/// <param name="EmbeddedWithOtherModel">Of the rows pending for the active model, those another model has embedded.</param>
/// <param name="Pending">Rows the active model has still to embed, including those waiting to retry after a transient failure.</param>
/// <param name="Failed">Rows given up on for a permanent reason (undecodable, not a regular file, too large, changed since ingest).</param>
/// <param name="Failures">Failed and retrying rows grouped by reason: permanent ones first, then transient, most frequent first.</param>
/// <param name="Models">Embedded rows per model.</param>
/// <param name="Indexes">Vector indexes on the active model's partition.</param>
/// <param name="Retrying">Of <paramref name="Pending"/>, rows whose last attempt failed transiently (missing file, I/O error, timeout).</param>
/// <param name="NextAttemptAt">When the earliest of those is tried again.</param>
/// <param name="ActiveModel">The active model's name; <see langword="null"/> before the first embedding.</param>
/// <param name="Coverage">Every registered model with its exact coverage (<c>gallery.model_coverage()</c>).</param>
internal sealed record GalleryStatus(
    long Rows,
    long Embedded,
    long EmbeddedWithOtherModel,
    long Pending,
    long Failed,
    IReadOnlyList<FailureGroup> Failures,
    IReadOnlyList<ModelCount> Models,
    IReadOnlyList<VectorIndexInfo> Indexes,
    long Retrying = 0,
    DateTime? NextAttemptAt = null,
    string? ActiveModel = null,
    IReadOnlyList<ModelCoverage>? Coverage = null);

/// <summary>Failed rows sharing one reason; transient ones (not <paramref name="Permanent"/>) are retried by <paramref name="NextAttemptAt"/>.</summary>
internal sealed record FailureGroup(string Reason, bool Permanent, long Rows, DateTime? NextAttemptAt = null);

/// <summary>Embedded rows of one model.</summary>
internal sealed record ModelCount(string Model, long Rows);

/// <summary>A vector index: name, access method (hnsw, ivfflat) and size on disk.</summary>
internal sealed record VectorIndexInfo(string Name, string Type, long SizeBytes, string Size, bool Valid);
