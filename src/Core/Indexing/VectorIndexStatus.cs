namespace DbFirst.Indexing;

/// <summary>The state of the gallery's vector index, as <c>dbfirst index status</c> shows it.</summary>
/// <param name="IndexName">The index, or <see langword="null"/> when there is none (searches scan the table).</param>
/// <param name="Method"><c>hnsw</c> or <c>ivfflat</c>.</param>
/// <param name="Parameters">Build parameters, pgvector's defaults filled in.</param>
/// <param name="IsValid">False for an index left behind by a failed concurrent build.</param>
/// <param name="SizeBytes">Index size on disk.</param>
/// <param name="Rows">Embedded rows in the table now.</param>
/// <param name="LastBuild">The newest recorded build of this index, if DbFirst built it.</param>
/// <param name="SearchSetting">The search-time setting the functions apply, e.g. <c>hnsw.ef_search</c>.</param>
/// <param name="SearchValue">Its value.</param>
/// <param name="SearchNote">Where the value comes from: pgvector's default, or what tuning measured.</param>
/// <param name="Precision"><see cref="IndexPrecision.Full"/>, <see cref="IndexPrecision.Half"/> or <see cref="IndexPrecision.Binary"/>; <see langword="null"/> when there is no index.</param>
public sealed record VectorIndexStatus(
    string? IndexName,
    string? Method,
    IndexParameters? Parameters,
    bool IsValid,
    long SizeBytes,
    long Rows,
    IndexBuild? LastBuild,
    string? SearchSetting,
    string? SearchValue,
    string? SearchNote,
    string? Precision = null);
