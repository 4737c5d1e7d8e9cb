namespace DbFirst.Indexing;

/// <summary>What <see cref="BuildParameterTuner"/> measured, chose and built.</summary>
/// <param name="SampleRows">Rows in the sample the candidates were built over.</param>
/// <param name="SampleQueries">Held-out sample rows used as queries.</param>
/// <param name="MissRatio">
/// How many times more often the full table's index missed than the same build over the sample, measured on the index
/// in place before (1 when it was not measured): sample recalls are scaled by it, since recall falls as a table grows.
/// </param>
/// <param name="Candidates">The trade-off table: every pair built over the sample, cheapest first.</param>
/// <param name="Chosen">The cheapest candidate that reached the target with margin; the best-predicted one within the build budget when none did.</param>
/// <param name="Plan">The plan of the real rebuild (memory within the ceiling); null in a dry run or when nothing was rebuilt.</param>
/// <param name="Build">The real rebuild with <see cref="Chosen"/>'s parameters; null in a dry run, or when <see cref="Chosen"/> is the index in place (not rebuilt).</param>
/// <param name="OverBudget">The full-size plans of the pairs not tried because their rebuild would outlast <see cref="BuildTuneOptions.MaxBuildMinutes"/>.</param>
/// <param name="Search">The ef_search tuning of the rebuilt index (of the index in place when it was not rebuilt); null in a dry run.</param>
public sealed record BuildTuneReport(
    int SampleRows, int SampleQueries, double MissRatio, IReadOnlyList<BuildCandidate> Candidates, IReadOnlyList<BuildPlan> OverBudget, BuildCandidate Chosen, BuildPlan? Plan, IndexBuild? Build, TuneReport? Search);
