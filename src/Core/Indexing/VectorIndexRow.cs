namespace DbFirst.Indexing;

/// <summary>A vector index on <c>gallery.image_gallery</c> as the catalog describes it.</summary>
/// <param name="Name">The index name.</param>
/// <param name="Method">Its access method.</param>
/// <param name="Parameters">Its parameters read from <c>reloptions</c>; <see langword="null"/> for a method other than hnsw or ivfflat.</param>
/// <param name="IsValid">False for an index left behind by a failed concurrent build.</param>
/// <param name="SizeBytes">Its size on disk.</param>
/// <param name="Precision"><see cref="IndexPrecision.Half"/> for an index on <c>embedding::halfvec(N)</c>, <see cref="IndexPrecision.Binary"/> for one on its sign bits (<c>bit_hamming_ops</c>), else <see cref="IndexPrecision.Full"/>.</param>
internal sealed record VectorIndexRow(string Name, string Method, IndexParameters? Parameters, bool IsValid, long SizeBytes, string Precision);
