using System.Globalization;

namespace DbFirst.Indexing;

/// <summary>One (m, ef_construction) pair <see cref="BuildParameterTuner"/> built over the sample: a row of its trade-off table.</summary>
/// <param name="M">Connections per node.</param>
/// <param name="EfConstruction">Build candidate list.</param>
/// <param name="SampleBuildSeconds">How long the sample build took (serial).</param>
/// <param name="SampleIndexBytes">The sample index's size.</param>
/// <param name="EfSearch">The smallest <c>hnsw.ef_search</c> at which the predicted full-table recall reached the target plus margin; null when none up to the limit did.</param>
/// <param name="SampleRecall">Recall@k on the sample at <see cref="EfSearch"/> (or the largest tried).</param>
/// <param name="PredictedRecall">That recall scaled to the full table (<see cref="BuildTuneReport.MissRatio"/>).</param>
/// <param name="P50Ms">Median latency on the sample at that setting.</param>
/// <param name="FullPlan">The plan of a full-size build with these parameters: its memory, whether it spills, roughly how long it takes.</param>
public sealed record BuildCandidate(
    int M, int EfConstruction, double SampleBuildSeconds, long SampleIndexBytes, int? EfSearch, double SampleRecall, double PredictedRecall, double P50Ms, BuildPlan? FullPlan = null)
{
    /// <summary>Whether it reached the target.</summary>
    public bool Reaches => EfSearch is not null;

    /// <summary>One line for the terminal.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"m = {M,2}, ef_construction = {EfConstruction,3}: sample build {SampleBuildSeconds,6:F1} s, {ByteSize.Format(SampleIndexBytes),9}; {(EfSearch is { } ef ? $"ef_search {ef,4}" : "not reached ")}: sample recall {SampleRecall:F4}, predicted {PredictedRecall:F4}, p50 {P50Ms:F2} ms{FullBuild()}");

    private string FullBuild() => FullPlan is not { } plan
        ? ""
        : string.Create(CultureInfo.InvariantCulture,
            $"; full build {(plan.EstimatedSeconds is { } seconds ? "~" + BuildPlan.FormatDuration(seconds) : "time unknown")}, {ByteSize.Format(plan.NeededBytes)}{(plan.Spills ? " (spills)" : "")}");
}
