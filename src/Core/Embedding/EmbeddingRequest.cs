namespace DbFirst.Embedding;

/// <summary>What one run of the pipeline should do.</summary>
/// <param name="Limit">Stop after claiming this many rows; <see langword="null"/> runs until nothing is pending.</param>
/// <param name="Reembed">Also re-embed rows whose <c>embedding_model</c> is not the configured model.</param>
internal sealed record EmbeddingRequest(int? Limit = null, bool Reembed = false);
