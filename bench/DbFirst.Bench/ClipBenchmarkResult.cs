namespace DbFirst.Bench;

/// <summary>The outcome of <see cref="ClipBenchmark.Run"/>.</summary>
internal sealed record ClipBenchmarkResult(
    string Model, int Dimension, bool IsTestModel, int Cores, string Machine, DateTimeOffset StartedAt, IReadOnlyList<ClipBenchmarkRow> Rows)
{
    /// <summary>A Markdown table of the rows.</summary>
    public string ToMarkdown()
    {
        var lines = new List<string>
        {
            $"# CLIP benchmark {StartedAt:yyyy-MM-dd HH:mm:ss}Z",
            "",
            $"Model `{Model}` ({Dimension} dims{(IsTestModel ? ", tiny test model: encoder figures are not representative" : "")}), {Cores} cores, {Machine}.",
            "",
            "| case | input | threads | batch | items | seconds | per second |",
            "|---|---|---:|---:|---:|---:|---:|",
        };
        lines.AddRange(Rows.Select(r => $"| {r.Case} | {r.Input} | {r.Threads} | {r.Batch} | {r.Items} | {r.Seconds:F2} | {r.PerSecond:F1} |"));
        return string.Join('\n', lines) + "\n";
    }
}
