using System.Diagnostics;

namespace DbFirst.Bench;

/// <summary>
/// Measures the embedding pipeline end to end (claim → preprocess → encode → write, real PostgreSQL) against its two
/// expensive parts alone: preprocessing on all cores and the bare encoder. The gap is the pipeline's own overhead.
/// Runs in a scratch database on the configured server, dropped afterwards.
/// </summary>
internal sealed class EmbeddingBenchmark
{
    private readonly ClipModel _model;
    private readonly IImageEmbedder _embedder;
    private readonly EmbeddingOptions _options;

    public EmbeddingBenchmark(ClipModel model, EmbeddingOptions options)
    {
        _model = model;
        _embedder = new ClipImageEmbedder(model);
        _options = options;
    }

    /// <summary>Runs the three measurements over <paramref name="images"/> in a temporary database next to <paramref name="connectionString"/>'s.</summary>
    public async Task<EmbeddingBenchmarkResult> RunAsync(string connectionString, IReadOnlyList<string> images, Action<string> log, CancellationToken cancellationToken = default)
    {
        var sample = images.Take(Math.Min(images.Count, 256)).ToList();
        log($"preprocessing {sample.Count} images on {_options.PreprocessParallelism} threads...");
        var clock = Stopwatch.StartNew();
        var tensors = new float[sample.Count][];
        Parallel.For(0, sample.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.PreprocessParallelism, CancellationToken = cancellationToken },
            i => tensors[i] = _embedder.Preprocess(sample[i]));
        var preprocessPerSecond = sample.Count / clock.Elapsed.TotalSeconds;

        log($"encoding {sample.Count} images in batches of {_options.BatchSize}...");
        clock.Restart();
        foreach (var chunk in tensors.Chunk(_options.BatchSize))
        {
            _embedder.Encode(chunk);
        }

        var encodePerSecond = sample.Count / clock.Elapsed.TotalSeconds;

        await using var scratch = await ScratchDatabase.CreateAsync(connectionString, "dbfirst_bench", cancellationToken: cancellationToken);
        await using var dataSource = GalleryDataSource.Create(scratch.ConnectionString);
        await using (var insert = dataSource.CreateCommand("INSERT INTO gallery.image_gallery (path) SELECT unnest(@paths)"))
        {
            insert.Parameters.AddWithValue("paths", images.ToArray());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        log($"embedding {images.Count} rows through the pipeline...");
        var result = await new EmbeddingPipeline(dataSource, _embedder, _options).RunAsync(new EmbeddingRequest(), progress: null, cancellationToken);
        return new EmbeddingBenchmarkResult(
            DateTimeOffset.UtcNow, _embedder.ModelName, TestModel: !_model.IsSemantic, Environment.ProcessorCount, images.Count,
            _options.BatchSize, preprocessPerSecond, encodePerSecond, result.RowsPerSecond, result.Embedded, result.Elapsed.TotalSeconds);
    }
}
