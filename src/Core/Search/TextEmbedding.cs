namespace DbFirst.Search;

/// <summary>A text's embedding and the model that made it, read together so that a model switch cannot pair them wrongly.</summary>
public sealed record TextEmbedding(string Model, float[] Embedding);
