namespace DbFirst.Search;

/// <summary>A text's embedding and the model that made it, read together so that a model switch cannot pair them wrongly.</summary>
public sealed record TextEmbedding(string Model, float[] Embedding)
{
    /// <summary>
    /// The registry's active model as the embedder read it while encoding (an embedder that follows the registry reads
    /// it anyway), so that <see cref="GallerySearch.SearchByTextEmbeddingAsync"/> checks against that reading instead of
    /// reading it a second time; null when the embedder did not read the registry.
    /// </summary>
    public string? ActiveModel { get; init; }
}
