using System.Globalization;

namespace DbFirst.Indexing;

/// <summary>What an index build will need and get, worked out before it starts (<c>dbfirst index rebuild --plan</c>).</summary>
/// <param name="Method"><c>hnsw</c> or <c>ivfflat</c>.</param>
/// <param name="Parameters">What the index is built with.</param>
/// <param name="Rows">Embedded rows to index.</param>
/// <param name="Dimensions">Vector dimensions.</param>
/// <param name="BytesPerRow">Build memory per row (HNSW: pgvector's in-memory graph element, neighbours and vector).</param>
/// <param name="NeededBytes">Memory for the whole build to stay in memory.</param>
/// <param name="CeilingBytes">The most it may use (<see cref="BuildMemoryCeiling"/>).</param>
/// <param name="MaintenanceWorkMemBytes">What the build session's <c>maintenance_work_mem</c> is set to.</param>
/// <param name="Spills">Whether the graph outgrows that memory and pgvector goes on with its slower on-disk inserts.</param>
/// <param name="RowsInMemory">About how many rows fit before it spills (all of them when it does not).</param>
/// <param name="Workers">Parallel maintenance workers the build may use.</param>
/// <param name="EstimatedSeconds">Rough build time; <see langword="null"/> when nothing to scale from.</param>
/// <param name="EstimateBasis">What the time estimate was scaled from.</param>
/// <param name="Precision"><see cref="IndexPrecision.Full"/>, <see cref="IndexPrecision.Half"/> or <see cref="IndexPrecision.Binary"/>.</param>
public sealed record BuildPlan(
    string Method,
    IndexParameters Parameters,
    long Rows,
    int Dimensions,
    long BytesPerRow,
    long NeededBytes,
    long CeilingBytes,
    long MaintenanceWorkMemBytes,
    bool Spills,
    long RowsInMemory,
    int Workers,
    double? EstimatedSeconds,
    string EstimateBasis,
    string Precision = IndexPrecision.Full)
{
    /// <summary>The plan in a few lines, for the terminal.</summary>
    public IReadOnlyList<string> Describe()
    {
        var c = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            string.Create(c, $"build plan: {Method} ({Parameters}, {Precision} precision) over {Rows:N0} rows of {Dimensions} dimensions, {Workers} parallel worker(s)"),
            string.Create(c, $"memory: needs ~{ByteSize.Format(NeededBytes)} ({BytesPerRow:N0} B/row); ceiling {ByteSize.Format(CeilingBytes)} ({BuildMemoryCeiling.ConfigurationKey}); maintenance_work_mem = {ByteSize.Format(MaintenanceWorkMemBytes)}"),
            Spills
                ? string.Create(c, $"spills: the graph fills maintenance_work_mem after ~{RowsInMemory:N0} rows; the other {Rows - RowsInMemory:N0} go through pgvector's on-disk inserts (about 3x slower per row)")
                : "fits: the whole graph is built in memory",
            EstimatedSeconds is { } seconds
                ? string.Create(c, $"time: roughly {FormatDuration(seconds)} ({EstimateBasis})")
                : $"time: unknown ({EstimateBasis})",
        };
        return lines;
    }

    /// <summary>A duration as the plan says it: seconds, minutes or hours.</summary>
    internal static string FormatDuration(double seconds) => seconds switch
    {
        < 90 => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, Math.Round(seconds))} s"),
        < 5400 => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(seconds / 60)} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1} h"),
    };
}
