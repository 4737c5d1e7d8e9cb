namespace DbFirst.Bench;

/// <summary>One configuration measured by <c>dbfirst bench search</c>.</summary>
/// <param name="Name">What was measured, e.g. <c>tuned HNSW</c>.</param>
/// <param name="Setting">Index and search setting, e.g. <c>m = 16, ef_construction = 64; hnsw.ef_search = 40</c>.</param>
/// <param name="Recall">Mean recall@k against the exact answers (NaN where not applicable).</param>
/// <param name="P50Ms">Median latency of one search.</param>
/// <param name="P95Ms">95th percentile latency.</param>
/// <param name="BuildSeconds">Index build time, where an index was built for this row.</param>
/// <param name="IndexBytes">Size of the index built for this row.</param>
/// <param name="PeakBuildBytes">Peak memory of the build's server processes (private plus dynamic shared), where /proc could be read.</param>
/// <param name="MaintenanceWorkMemBytes">The <c>maintenance_work_mem</c> the build ran with (the build plan's, within its ceiling).</param>
/// <param name="Rows">Rows returned per search (mean), where that is the point (filtered search).</param>
public sealed record SearchBenchmarkRow(
    string Name,
    string Setting,
    double Recall,
    double P50Ms,
    double P95Ms,
    double? BuildSeconds,
    long? IndexBytes = null,
    long? PeakBuildBytes = null,
    long? MaintenanceWorkMemBytes = null,
    double? Rows = null);
