namespace DbFirst.Embedding;

/// <summary>What one run of the pipeline did.</summary>
/// <param name="Model">The model that embedded the rows.</param>
/// <param name="Embedded">Rows whose embedding was written.</param>
/// <param name="FailedPermanently">Rows marked as never embeddable (undecodable, too large).</param>
/// <param name="FailedTransiently">Rows whose attempt failed in a way a later attempt may cure.</param>
/// <param name="Released">Rows claimed but handed back unprocessed because the run was stopped.</param>
/// <param name="Batches">Batches committed.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="Stopped">Whether the run ended because it was asked to stop rather than because nothing was left.</param>
internal sealed record EmbeddingResult(
    string Model,
    int Embedded,
    int FailedPermanently,
    int FailedTransiently,
    int Released,
    int Batches,
    TimeSpan Elapsed,
    bool Stopped)
{
    /// <summary>Rows processed (embedded or failed) per second of wall time.</summary>
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? (Embedded + FailedPermanently + FailedTransiently) / Elapsed.TotalSeconds : 0;
}
