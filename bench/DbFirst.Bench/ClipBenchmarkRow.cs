namespace DbFirst.Bench;

/// <summary>One measured case: <see cref="Items"/> images or texts done in <see cref="Seconds"/>.</summary>
internal sealed record ClipBenchmarkRow(string Case, string Input, int Threads, int Batch, int Items, double Seconds)
{
    /// <summary>Throughput in items per second.</summary>
    public double PerSecond => Seconds > 0 ? Items / Seconds : 0;
}
