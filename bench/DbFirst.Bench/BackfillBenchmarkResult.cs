using System.Globalization;
using System.Text;

namespace DbFirst.Bench;

/// <summary>What <c>dbfirst bench backfill</c> measured.</summary>
/// <remarks>
/// <c>ActiveEmbed*</c>: the active model's own first embed of every image, with no searches running (the reference).
/// <c>Backfill*</c>: the staged model's backfill by a <c>dbfirst embed</c> process while the searches ran; images/s as
/// its pipeline reports it, wall seconds and peak RSS (VmHWM) of the whole process, both models loaded.
/// <c>ForeignRows</c>: rows returned by a search whose distance is not the active model's (a staged model's row would be one).
/// <c>LoadAverage</c>: the machine's 1-minute load average before the searches and after the backfill, since other
/// work on the machine moves every figure.
/// </remarks>
internal sealed record BackfillBenchmarkResult(
    DateTimeOffset FinishedAt,
    int Cores,
    int Images,
    string ActiveModel,
    string StagedModel,
    int Dimension,
    double ActiveEmbedImagesPerSecond,
    long ActiveEmbedPeakRssBytes,
    int BackfillEmbedded,
    double BackfillImagesPerSecond,
    double BackfillWallSeconds,
    long BackfillPeakRssBytes,
    string Coverage,
    IReadOnlyList<BackfillSearchRow> Searches,
    long RowsReturned,
    long ForeignRows,
    int SearchErrors,
    IReadOnlyList<string> ErrorSamples,
    string LoadAverage)
{
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# bench backfill ({FinishedAt:yyyy-MM-dd HH:mm} UTC)")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{Images} images, {Cores} cores, PostgreSQL on the same machine. Active model {ActiveModel}, staged model {StagedModel} ({Dimension}-d).")
            .AppendLine("Searches run one after another on one connection, before the stage and during the staged model's backfill by a `dbfirst embed` process.")
            .AppendLine(CultureInfo.InvariantCulture, $"Machine load average (1 min) before the searches / after the backfill: {LoadAverage}.")
            .AppendLine()
            .AppendLine("| | images/s | wall s | peak RSS MB |")
            .AppendLine("| --- | ---: | ---: | ---: |")
            .AppendLine(CultureInfo.InvariantCulture, $"| active model's embed, no searches running | {ActiveEmbedImagesPerSecond:F1} | | {ActiveEmbedPeakRssBytes / 1048576.0:F0} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| **staged model's backfill, searches running** ({BackfillEmbedded} images) | **{BackfillImagesPerSecond:F1}** | {BackfillWallSeconds:F1} | {BackfillPeakRssBytes / 1048576.0:F0} |")
            .AppendLine()
            .AppendLine("| search | before: n | p50 ms | p95 ms | during: n | p50 ms | p95 ms |")
            .AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in Searches)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Search} | {row.BeforeCount} | {row.BeforeP50Ms:F2} | {row.BeforeP95Ms:F2} | {row.DuringCount} | {row.DuringP50Ms:F2} | {row.DuringP95Ms:F2} |");
        }

        text.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Search errors: {SearchErrors}. Rows returned: {RowsReturned}, of which not the active model's (a staged model's row would be one): **{ForeignRows}**.")
            .AppendLine(CultureInfo.InvariantCulture, $"Coverage after the backfill (`gallery.model_coverage()`): {Coverage}.");
        foreach (var sample in ErrorSamples)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- error: {sample}");
        }

        return text.ToString();
    }
}
