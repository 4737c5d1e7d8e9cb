namespace DbFirst.Indexing;

/// <summary>
/// Estimates an index build's memory and time (<see cref="BuildPlan"/>) and picks its <c>maintenance_work_mem</c>.
/// </summary>
/// <remarks>
/// HNSW memory follows pgvector 0.8's in-memory build: per row an element, its neighbour lists (2m candidates
/// of 16 bytes on layer 0, few above) and a copy of the vector (8 + 4d bytes). Calibrated on this repository's
/// pgvector against its own "hnsw graph no longer fits into maintenance_work_mem after N tuples" notice
/// (d = 512, m = 4..32; d = 128, m = 16): 266 + 4d + 32m bytes per row, within 1%. A half-precision index holds
/// 2-byte components: 266 + 2d + 32m; a binary-quantized one a bit a dimension: 266 + ceil(d / 8) + 32m (the bit
/// string's 8-byte header is the vector's, already in the 266).
/// </remarks>
public static class BuildPlanner
{
    /// <summary>Per-row bytes of pgvector's graph apart from the vector and the layer-0 neighbours.</summary>
    public const int HnswElementOverhead = 266;

    /// <summary>Headroom over the estimate, so an estimate a little short does not spill.</summary>
    public const double Headroom = 1.10;

    /// <summary>The session floor DbFirst used before planning: a small build gets this much when the ceiling allows.</summary>
    public const long FloorBytes = 64L << 20;

    // The default in-memory HNSW build (m = 16, ef_construction = 64, 512 dimensions, two parallel workers) of the
    // CLIP-like mixture of `dbfirst bench search` on the idle 2-core development machine: 10^5 rows in 51.6 s,
    // 10^6 in 1,193 s. A row costs more as the graph grows: 516 -> 1,193 microseconds over ten times the rows fits
    // rows^0.36 (the log N assumed before said 3 min of the 20 at 10^6). Two workers gained only 1.24x over a serial build
    // there (three processes share two cores); more cores gain more, so this errs long elsewhere.
    private const double ReferenceSecondsPerRow = 516e-6;
    private const double ReferenceRows = 100_000;
    private const int ReferenceM = 16;
    private const int ReferenceEfConstruction = 64;
    private const int ReferenceWorkers = 2;
    private const double RowExponent = 0.36;
    private const double SpilledSlowdown = 3.4;

    // Build time against m and ef_construction: the seven sample builds of 20,000 hard rows in the 10^6 tuning run
    // ((16, 64) 15.8 s ... (48, 256) 140 s) fit m^1.19 x ef_construction^0.59 within 15%. Plain m x ef_construction,
    // used before, planned (24, 128) at 3.0x the default build where the full 10^6 build took 1.68x (1,796 against
    // 1,070 s), and so left pairs out of the build budget that fitted in it; this says 2.5x.
    private const double MExponent = 1.2;
    private const double EfConstructionExponent = 0.6;

    /// <summary>Graph memory per row for an HNSW build at <paramref name="precision"/>.</summary>
    public static long HnswBytesPerRow(int dimensions, int m, string precision = IndexPrecision.Full) =>
        HnswElementOverhead + IndexPrecision.VectorBytes(precision, dimensions) + (32L * m);

    /// <summary>
    /// Works out a plan; <paramref name="lastBuild"/>, when of the same method, calibrates the time estimate; a
    /// <paramref name="precision"/> of <see cref="IndexPrecision.Half"/> counts 2 bytes a dimension instead of 4,
    /// <see cref="IndexPrecision.Binary"/> one bit.
    /// </summary>
    public static BuildPlan Plan(IndexParameters parameters, long rows, int dimensions, long ceilingBytes, int workers, IndexBuild? lastBuild, string precision = IndexPrecision.Full)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var method = parameters.Method;
        var hnsw = parameters as HnswParameters;
        var perRow = hnsw is not null ? HnswBytesPerRow(dimensions, hnsw.M, precision) : IndexPrecision.VectorBytes(precision, dimensions) + 64;
        var needed = (long)(rows * perRow * Headroom);
        var memory = Math.Clamp(Math.Max(needed, FloorBytes), BuildMemoryCeiling.MinBytes, ceilingBytes);
        // Only HNSW spills: IVFFlat's k-means samples a bounded number of rows.
        var spills = hnsw is not null && needed > memory;
        var inMemory = spills ? memory / perRow : rows;
        var (seconds, basis) = EstimateSeconds(parameters, rows, inMemory, workers, lastBuild);
        return new BuildPlan(method, parameters, rows, dimensions, perRow, needed, ceilingBytes, memory, spills, inMemory, workers, seconds, basis, precision);
    }

    private static (double? Seconds, string Basis) EstimateSeconds(IndexParameters parameters, long rows, long inMemory, int workers, IndexBuild? last)
    {
        if (rows == 0)
        {
            return (0, "no rows");
        }

        // Insert cost grows with m and ef_construction (see Work) and, as the graph grows, with rows^RowExponent.
        double perRow;
        string basis;
        if (last is not null && last.Method == parameters.Method && last.Operation == "create" && last.RowCount >= 1000 && last.BuildSeconds > 0)
        {
            perRow = last.BuildSeconds / last.RowCount
                * (parameters is HnswParameters now && last.Parameters is HnswParameters then
                    ? Work(now) / Work(then) * Math.Pow((rows + 2.0) / (last.RowCount + 2.0), RowExponent)
                    : 1);
            basis = $"scaled from the last build: {last.RowCount:N0} rows in {last.BuildSeconds:F0} s";
        }
        else if (parameters is HnswParameters hnsw)
        {
            perRow = ReferenceSecondsPerRow * Work(hnsw) / Work(new HnswParameters(ReferenceM, ReferenceEfConstruction)) * Math.Pow(rows / ReferenceRows, RowExponent)
                * Speedup(ReferenceWorkers) / Speedup(workers);
            basis = "scaled from reference builds on a 2-core machine; no earlier build here";
        }
        else
        {
            return (null, "no earlier IVFFlat build to scale from");
        }

        return ((perRow * inMemory) + (perRow * SpilledSlowdown * (rows - inMemory)), basis);
    }

    private static double Work(HnswParameters parameters) =>
        Math.Pow(parameters.M, MExponent) * Math.Pow(parameters.EfConstruction, EfConstructionExponent);

    private static double Speedup(int workers) => 1 + (0.12 * workers);
}
