namespace DbFirst.Embedding;

/// <summary>What one run of the pipeline should do.</summary>
/// <param name="Limit">Stop after claiming this many rows; <see langword="null"/> runs until nothing is pending.</param>
internal sealed record EmbeddingRequest(int? Limit = null);
