using System.Diagnostics;

namespace DbFirst.Bench;

/// <summary>
/// Runs <c>dbfirst bench ingest</c> in a scratch database next to the configured one: ingest throughput over
/// generated 2 MP JPEGs (and ingest + embed when given an embedder), then 512-d vector write throughput by COPY and by the seed's multi-row INSERT.
/// </summary>
internal sealed class IngestBenchmark
{
    private const int RowsPerInsertStatement = 1000;

    private readonly string _connectionString;
    private readonly IImageEmbedder? _embedder;

    /// <summary>Benchmarks against the server of <paramref name="connectionString"/>; with an <paramref name="embedder"/>, ingest + embed too.</summary>
    public IngestBenchmark(string connectionString, IImageEmbedder? embedder = null)
    {
        _connectionString = connectionString;
        _embedder = embedder;
    }

    /// <summary>Runs every measurement; <paramref name="log"/> hears what is going on.</summary>
    /// <param name="photoFolder">Where the generated photos are cached between runs.</param>
    /// <param name="images">How many photos to ingest.</param>
    /// <param name="vectorRows">How many rows each vector-write method writes.</param>
    /// <param name="log">Progress lines for the person waiting.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public async Task<IngestBenchmarkResult> RunAsync(string photoFolder, int images, int vectorRows, Action<string> log, CancellationToken cancellationToken = default)
    {
        await BenchPhotoSet.EnsureAsync(photoFolder, images, log, cancellationToken);
        var files = Directory.EnumerateFiles(photoFolder).Select(p => new FileInfo(p).Length).ToList();
        var megabytes = files.Sum() / 1e6 / files.Count;

        await using var scratch = await ScratchDatabase.CreateAsync(_connectionString, "dbfirst_bench", cancellationToken: cancellationToken);
        await using var dataSource = GalleryDataSource.Create(scratch.ConnectionString);

        // The cache folder is ingested as it is: a cache made earlier for more photos measures them all.
        var inFolder = files.Count;
        var ingester = new GalleryIngester(dataSource);
        var options = new IngestOptions([photoFolder]);
        var cold = await TimeIngestAsync(ingester, options, inFolder, expectAdded: true, cancellationToken);
        log($"ingest of {inFolder} photos, empty table: {cold:N0} images/s");
        var rerun = await TimeIngestAsync(ingester, options, inFolder, expectAdded: false, cancellationToken);
        log($"ingest of {inFolder} photos, nothing changed: {rerun:N0} images/s");

        double? ingestAndEmbed = null;
        if (_embedder is not null)
        {
            // The photos the cold ingest registered, through the same pipeline as `dbfirst embed`.
            var embedded = await new EmbeddingPipeline(dataSource, _embedder, new EmbeddingOptions()).RunAsync(new EmbeddingRequest(), progress: null, cancellationToken);
            if (embedded.Embedded != inFolder)
            {
                throw new InvalidOperationException($"benchmark embedded {embedded.Embedded} of {inFolder} photos");
            }

            ingestAndEmbed = inFolder / ((inFolder / cold) + embedded.Elapsed.TotalSeconds);
            log($"ingest + embed ({_embedder.ModelName}): {ingestAndEmbed:N0} images/s (embed alone {embedded.RowsPerSecond:N0} images/s)");
        }

        var vectors = new VectorWriteBenchmark(dataSource);
        await vectors.WarmUpAsync(RowsPerInsertStatement, cancellationToken);
        var copy = await vectors.CopyRowsPerSecondAsync(vectorRows, cancellationToken);
        log($"binary COPY: {copy:N0} rows/s");
        var literals = await vectors.InsertWithLiteralsRowsPerSecondAsync(vectorRows, RowsPerInsertStatement, cancellationToken);
        log($"multi-row INSERT, literals: {literals:N0} rows/s");
        var parameters = await vectors.InsertWithParametersRowsPerSecondAsync(vectorRows, RowsPerInsertStatement, cancellationToken);
        log($"multi-row INSERT, parameters: {parameters:N0} rows/s");
        return new IngestBenchmarkResult(inFolder, megabytes, cold, rerun, vectorRows, copy, parameters, literals, ingestAndEmbed);
    }

    private static async Task<double> TimeIngestAsync(GalleryIngester ingester, IngestOptions options, int images, bool expectAdded, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var report = await ingester.IngestAsync(options, cancellationToken: cancellationToken);
        clock.Stop();
        var expected = expectAdded ? report.Added : report.Unchanged;
        if (expected != images)
        {
            throw new InvalidOperationException($"benchmark ingest registered {expected} of {images} photos: {report.ToJson()}");
        }

        return images / clock.Elapsed.TotalSeconds;
    }
}
