namespace DbFirst.Indexing;

/// <summary>
/// The model whose vector index is managed: its partition <c>gallery.image_embeddings_m&lt;id&gt;</c> and the
/// managed index on it, an expression index on <c>embedding::vector(dimension)</c> (migration 100).
/// </summary>
/// <param name="ModelId">The model's id in <c>gallery.clip_models</c>.</param>
/// <param name="Dimension">The model's dimension, the N of the index expression.</param>
internal sealed record IndexTarget(int ModelId, int Dimension)
{
    /// <summary>The model's partition of <c>gallery.image_embeddings</c>.</summary>
    public string Partition => $"image_embeddings_m{ModelId}";

    /// <summary>The name the model's managed index always ends up with.</summary>
    public string IndexName => $"{Partition}_embedding_idx";

    /// <summary>The name a rebuild builds its new index under before swapping it in.</summary>
    public string SpareName => IndexName + "_new";

    /// <summary>What the index covers: the model's embeddings at its dimension, by cosine distance.</summary>
    public string IndexExpression => $"((embedding::vector({Dimension})) vector_cosine_ops)";
}
