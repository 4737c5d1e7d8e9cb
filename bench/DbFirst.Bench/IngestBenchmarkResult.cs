using System.Globalization;
using System.Text;

namespace DbFirst.Bench;

/// <summary>Figures from <c>dbfirst bench ingest</c>.</summary>
/// <param name="Images">Photos in the set.</param>
/// <param name="MegabytesPerImage">Average file size.</param>
/// <param name="ColdImagesPerSecond">First ingest into an empty table (every photo added), OS file cache warm.</param>
/// <param name="RerunImagesPerSecond">Second ingest, nothing changed (every photo hashed and checked, nothing written).</param>
/// <param name="VectorRows">Rows written per vector-write method.</param>
/// <param name="CopyRowsPerSecond">Binary COPY of 512-d vectors.</param>
/// <param name="InsertParametersRowsPerSecond">Multi-row INSERT, 1,000 rows per statement, vectors as parameters.</param>
/// <param name="InsertLiteralsRowsPerSecond">Multi-row INSERT, 1,000 rows per statement, vectors as text literals (the seed article).</param>
/// <param name="IngestAndEmbedImagesPerSecond">Ingest followed by embedding through the pipeline; empty when no model was given.</param>
public sealed record IngestBenchmarkResult(
    int Images,
    double MegabytesPerImage,
    double ColdImagesPerSecond,
    double RerunImagesPerSecond,
    int VectorRows,
    double CopyRowsPerSecond,
    double InsertParametersRowsPerSecond,
    double InsertLiteralsRowsPerSecond,
    double? IngestAndEmbedImagesPerSecond = null)
{
    /// <summary>A Markdown report with the machine, the figures and the targets.</summary>
    public string ToMarkdown(DateTimeOffset when)
    {
        var copyVsLiterals = CopyRowsPerSecond / InsertLiteralsRowsPerSecond;
        var copyVsParameters = CopyRowsPerSecond / InsertParametersRowsPerSecond;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# dbfirst bench ingest — {when:yyyy-MM-dd HH:mm:ss zzz}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}.");
        text.AppendLine();
        text.AppendLine("| measurement | result |");
        text.AppendLine("|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| ingest alone, {Images:N0} × 2 MP JPEG ({MegabytesPerImage:F2} MB avg), empty table | {ColdImagesPerSecond:N0} images/s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| ingest alone, re-run with nothing changed | {RerunImagesPerSecond:N0} images/s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| ingest + embed, then embedding with the configured model | {(IngestAndEmbedImagesPerSecond is { } e ? $"{e:N0} images/s" : "not measured (--no-embed)")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| binary COPY, {VectorRows:N0} rows of 512-d vectors | {CopyRowsPerSecond:N0} rows/s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| multi-row INSERT, 1,000 rows/statement, vector literals (seed article) | {InsertLiteralsRowsPerSecond:N0} rows/s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| multi-row INSERT, 1,000 rows/statement, vector parameters | {InsertParametersRowsPerSecond:N0} rows/s |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"COPY vs seed INSERT (literals): {copyVsLiterals:F1}× (target ≥ 5×: {(copyVsLiterals >= 5 ? "met" : "NOT met")}).");
        text.AppendLine(CultureInfo.InvariantCulture, $"COPY vs INSERT with binary parameters: {copyVsParameters:F1}×.");
        return text.ToString();
    }
}
