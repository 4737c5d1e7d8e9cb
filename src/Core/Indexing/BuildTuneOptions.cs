namespace DbFirst.Indexing;

/// <summary>How <c>dbfirst index tune</c> searches for HNSW build parameters (<see cref="BuildParameterTuner"/>).</summary>
/// <param name="SampleRows">Rows of the model's embeddings to build the candidate indexes over.</param>
/// <param name="SampleQueries">Further sampled rows, left out of the sample, used as queries.</param>
/// <param name="Margin">Recall above the target a candidate must reach (after scaling to the full table) to be chosen.</param>
/// <param name="MaxEfSearch">The largest <c>hnsw.ef_search</c> a candidate may need: beyond it searches get slow.</param>
/// <param name="MaxBuildMinutes">
/// The longest full-size rebuild, by its plan's estimate, the tuner may choose; candidates above it are not tried.
/// 0 for no bound.
/// </param>
public sealed record BuildTuneOptions(
    int SampleRows = BuildTuneOptions.DefaultSampleRows, int SampleQueries = 200, double Margin = 0.02, int MaxEfSearch = 400, int MaxBuildMinutes = BuildTuneOptions.DefaultMaxBuildMinutes)
{
    /// <summary>The default sample: a few seconds per candidate build on two cores.</summary>
    public const int DefaultSampleRows = 20_000;

    /// <summary>
    /// The default build budget: at 10^6 hard rows on two cores the pairs that reach 0.95 take 2.6 hours and more, and
    /// a tune should not start such a rebuild unasked.
    /// </summary>
    public const int DefaultMaxBuildMinutes = 120;

    /// <summary>pgvector's (m, ef_construction) pairs worth trying, cheapest build first (build time grows about as m^1.2 × ef_construction^0.6; see <see cref="BuildPlanner"/>).</summary>
    public static readonly IReadOnlyList<HnswParameters> Candidates =
    [
        new(16, 64), new(16, 128), new(24, 128), new(32, 128), new(24, 256), new(32, 256), new(48, 256), new(64, 256), new(48, 512), new(64, 512),
    ];

    /// <summary>Checks the values; the message names the flag.</summary>
    /// <exception cref="GalleryException">A value out of range.</exception>
    public void Validate()
    {
        if (SampleRows is < 1000 or > 1_000_000 || SampleQueries is < 10 or > 10_000)
        {
            throw new GalleryException($"--sample must be between 1000 and 1000000 rows (got {SampleRows}) and the sample queries between 10 and 10000 (got {SampleQueries})");
        }

        if (Margin is < 0 or >= 0.5 || MaxEfSearch is < 10 or > 1000)
        {
            throw new GalleryException($"the margin must be between 0 and 0.5 (got {Margin}) and the largest ef_search between 10 and 1000 (got {MaxEfSearch})");
        }

        if (MaxBuildMinutes is < 0 or > 10_080)
        {
            throw new GalleryException($"--max-build-minutes must be between 1 and 10080 (a week), or 0 for no bound (got {MaxBuildMinutes})");
        }
    }
}
