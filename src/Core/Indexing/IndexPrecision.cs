namespace DbFirst.Indexing;

/// <summary>
/// What a vector index stores its vectors at: <see cref="Full"/> (an index on <c>embedding::vector(N)</c>, 4 bytes a
/// dimension), <see cref="Half"/> (on <c>embedding::halfvec(N)</c>, 2 bytes a dimension: about half the index,
/// nearly the same recall) or <see cref="Binary"/> (on the sign bits, <c>binary_quantize(embedding::vector(N))::bit(N)</c>:
/// one bit a dimension, candidates re-ranked by full-precision distance). The search functions read it from the
/// catalog (<c>gallery.index_precision</c>) and order by the expression the index serves.
/// </summary>
public static class IndexPrecision
{
    /// <summary>Single precision: the index holds the vectors as stored.</summary>
    public const string Full = "full";

    /// <summary>Half precision: the index holds <c>halfvec</c> copies of the vectors.</summary>
    public const string Half = "half";

    /// <summary>
    /// Binary quantization: the index holds one sign bit a dimension; searches over-fetch candidates by Hamming
    /// distance (k × the <c>binary.rerank_factor</c> setting) and keep the k nearest by full-precision distance.
    /// HNSW only.
    /// </summary>
    public const string Binary = "binary";

    /// <summary>The index's column and operator class for a model of <paramref name="dimension"/> dimensions.</summary>
    internal static string IndexColumn(string precision, int dimension) => precision switch
    {
        Half => $"(embedding::halfvec({dimension})) halfvec_cosine_ops",
        Binary => $"(binary_quantize(embedding::vector({dimension}))::bit({dimension})) bit_hamming_ops",
        _ => $"(embedding::vector({dimension})) vector_cosine_ops",
    };

    /// <summary>Bytes of the vector data of one row in the index: 4 or 2 a dimension, or one bit a dimension rounded up to whole bytes.</summary>
    internal static long VectorBytes(string precision, int dimensions) => precision switch
    {
        Half => 2L * dimensions,
        Binary => (dimensions + 7L) / 8,
        _ => 4L * dimensions,
    };

    /// <summary><paramref name="value"/> checked: <c>full</c>, <c>half</c> or <c>binary</c>, any case; null is <see cref="Full"/>.</summary>
    /// <exception cref="GalleryException">Anything else.</exception>
    internal static string Resolve(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or Full => Full,
        Half => Half,
        Binary => Binary,
        _ => throw new GalleryException($"the index precision must be full, half or binary, not '{value}'"),
    };
}
