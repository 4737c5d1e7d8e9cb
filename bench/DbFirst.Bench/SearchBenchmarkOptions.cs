namespace DbFirst.Bench;

/// <summary>What one <c>dbfirst bench search</c> run measures.</summary>
/// <param name="Rows">Vectors to load.</param>
/// <param name="Queries">Held-out query vectors.</param>
/// <param name="K">Neighbours per query.</param>
/// <param name="TargetRecall">What the tuner aims for.</param>
/// <param name="Set">The vector set, a name of <see cref="SearchVectorSet.Names"/>.</param>
/// <param name="Configs">Comma-separated configurations (<see cref="SearchConfigurations"/>); null for the default list.</param>
/// <param name="ReportPath">Markdown report to write.</param>
/// <param name="Keep">Keep the scratch database afterwards.</param>
/// <param name="Spread">The hard set's per-dimension noise; null for <see cref="SearchVectorSet.HardSpread"/> (used to calibrate it).</param>
/// <param name="Centres">The hard set's centres; null for <see cref="SearchVectorSet.HardCentres"/> (used to calibrate it).</param>
/// <param name="TuneSample">Rows the build-parameter tuner samples.</param>
/// <param name="FillNeighbours">Most queued images the duplicates configuration looks up; null for all of them.</param>
/// <param name="Rebuild">Whether hnsw-build rebuilds the full index with the parameters it chose (false: it only chooses and plans).</param>
/// <param name="MaxBuildMinutes">hnsw-build's budget for the full rebuild it may choose (0: no bound).</param>
/// <param name="Reuse">A scratch database an earlier run of the same set and size kept: its rows are not loaded again, nor its HNSW index built again.</param>
public sealed record SearchBenchmarkOptions(
    int Rows,
    int Queries,
    int K,
    double TargetRecall,
    string Set,
    string? Configs,
    string ReportPath,
    bool Keep = false,
    double? Spread = null,
    int? Centres = null,
    int TuneSample = BuildTuneOptions.DefaultSampleRows,
    long? FillNeighbours = null,
    bool Rebuild = true,
    string? Reuse = null,
    int MaxBuildMinutes = BuildTuneOptions.DefaultMaxBuildMinutes);
