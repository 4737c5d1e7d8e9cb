namespace DbFirst.Embedding;

/// <summary>Running totals of a pipeline run, reported after each committed batch.</summary>
/// <param name="Embedded">Rows embedded so far.</param>
/// <param name="Failed">Rows that failed so far (permanently or not).</param>
internal readonly record struct EmbeddingProgress(int Embedded, int Failed);
