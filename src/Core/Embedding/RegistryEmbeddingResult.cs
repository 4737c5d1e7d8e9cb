namespace DbFirst.Embedding;

/// <summary>What one <see cref="RegistryEmbedding"/> run did, per registered model.</summary>
/// <param name="Active">The active model's run (new images kept current).</param>
/// <param name="Staged">The staged model's backfill; null when no model is staged, its files could not be loaded, or the active run was stopped.</param>
/// <param name="Problems">One line per model that could not be loaded here (the others still ran).</param>
internal sealed record RegistryEmbeddingResult(EmbeddingResult Active, EmbeddingResult? Staged, IReadOnlyList<string> Problems)
{
    /// <summary>Whether a run ended because it was asked to stop.</summary>
    public bool Stopped => Active.Stopped || Staged is { Stopped: true };
}
