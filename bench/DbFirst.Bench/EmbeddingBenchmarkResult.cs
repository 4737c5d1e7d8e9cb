using System.Globalization;

namespace DbFirst.Bench;

/// <summary>What <c>dbfirst bench embed</c> measured.</summary>
internal sealed record EmbeddingBenchmarkResult(
    DateTimeOffset FinishedAt,
    string Model,
    bool TestModel,
    int Cores,
    int Images,
    int BatchSize,
    double PreprocessImagesPerSecond,
    double EncodeImagesPerSecond,
    double PipelineImagesPerSecond,
    int Embedded,
    double PipelineSeconds)
{
    /// <summary>
    /// The best the pipeline could do if preprocessing and encoding overlapped perfectly on separate resources; on a
    /// machine where both share the cores the honest bound is the serial sum, reported too.
    /// </summary>
    public double OverlapBoundImagesPerSecond => Math.Min(PreprocessImagesPerSecond, EncodeImagesPerSecond);

    public double SerialBoundImagesPerSecond => 1 / ((1 / PreprocessImagesPerSecond) + (1 / EncodeImagesPerSecond));

    public string ToMarkdown() => string.Create(CultureInfo.InvariantCulture, $"""
        # bench embed ({FinishedAt:yyyy-MM-dd HH:mm} UTC)

        model {Model}{(TestModel ? " (test model)" : "")}, {Cores} cores, {Images} images, batch {BatchSize}

        | stage | images/s |
        | --- | ---: |
        | preprocess only (all cores) | {PreprocessImagesPerSecond:F1} |
        | encoder only | {EncodeImagesPerSecond:F1} |
        | serial bound 1/(1/p + 1/e) | {SerialBoundImagesPerSecond:F1} |
        | **pipeline end to end (claim → preprocess → encode → write, PostgreSQL)** | **{PipelineImagesPerSecond:F1}** |

        {Embedded} rows embedded in {PipelineSeconds:F1} s.

        """);
}
