namespace DbFirst.Indexing;

/// <summary>
/// What a vector index stores its vectors at: <see cref="Full"/> (an index on <c>embedding::vector(N)</c>, 4 bytes a
/// dimension) or <see cref="Half"/> (on <c>embedding::halfvec(N)</c>, 2 bytes a dimension: about half the index,
/// nearly the same recall). The search functions read it from the catalog (<c>gallery.index_precision</c>) and order
/// by the expression the index serves.
/// </summary>
public static class IndexPrecision
{
    /// <summary>Single precision: the index holds the vectors as stored.</summary>
    public const string Full = "full";

    /// <summary>Half precision: the index holds <c>halfvec</c> copies of the vectors.</summary>
    public const string Half = "half";

    /// <summary>The index's column and operator class for a model of <paramref name="dimension"/> dimensions.</summary>
    internal static string IndexColumn(string precision, int dimension) => precision == Half
        ? $"(embedding::halfvec({dimension})) halfvec_cosine_ops"
        : $"(embedding::vector({dimension})) vector_cosine_ops";

    /// <summary>Bytes of one vector component in the index.</summary>
    internal static int BytesPerDimension(string precision) => precision == Half ? 2 : 4;

    /// <summary><paramref name="value"/> checked: <c>full</c> or <c>half</c>, any case; null is <see cref="Full"/>.</summary>
    /// <exception cref="GalleryException">Anything else.</exception>
    internal static string Resolve(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or Full => Full,
        Half => Half,
        _ => throw new GalleryException($"the index precision must be full or half, not '{value}'"),
    };
}
