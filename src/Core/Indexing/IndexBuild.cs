namespace DbFirst.Indexing;

/// <summary>One row of <c>gallery.index_builds</c>.</summary>
/// <param name="Method"><c>hnsw</c> or <c>ivfflat</c>.</param>
/// <param name="Parameters">What the index was built with.</param>
/// <param name="Operation"><c>create</c> (rebuild and swap) or <c>reindex</c>.</param>
/// <param name="RowCount">Embedded rows when the build started.</param>
/// <param name="TuplesChanged">Non-HOT updates plus deletes of the table when the build finished, the baseline for bloat.</param>
/// <param name="BuildSeconds">How long the build took.</param>
/// <param name="SizeBytes">Index size right after the build.</param>
/// <param name="BuiltAt">When it finished.</param>
/// <param name="Precision"><see cref="IndexPrecision.Full"/>, <see cref="IndexPrecision.Half"/> or <see cref="IndexPrecision.Binary"/>.</param>
public sealed record IndexBuild(string Method, IndexParameters Parameters, string Operation, long RowCount, long? TuplesChanged, double BuildSeconds, long SizeBytes, DateTimeOffset BuiltAt, string Precision = IndexPrecision.Full);
